//! # plasticity-data
//!
//! Data for the plasticity experiments:
//!
//! * [`idx`]: a checked reader for the IDX format of MNIST (raw or gzipped);
//! * [`mnist`]: loading the four canonical MNIST files from a directory ([`load_mnist_dir`]);
//! * [`bundled`]: a real MNIST subset compiled into the binary ([`bundled_mnist`]: first 15,000
//!   training and all 10,000 test images) so the quickstart runs offline;
//! * [`set`]: [`ImageSet`], the in-memory dataset, with seeded transforms (rotation, pixel
//!   permutation, class selection, subsets, hold-out splits) for continual-learning tasks;
//! * [`loader`]: Burn [`DataLoader`](burn::data::dataloader::DataLoader)s whose shuffle order
//!   is a pure function of `(seed, epoch)`, so resumed runs see the same batches;
//! * [`fetch`]: downloading (via system `curl`) and md5-checking the canonical files;
//! * [`rng`]: the small, version-stable PRNG behind every seeded operation.
//!
//! All fallible functions return [`DataError`], whose messages name the file involved and
//! what was found versus expected.

pub mod bundled;
pub mod error;
pub mod fetch;
pub mod idx;
pub mod loader;
pub mod mnist;
pub mod rng;
pub mod set;
pub mod text;
pub mod transform;

pub use bundled::{BUNDLED_DESCRIPTION, BUNDLED_TEST_COUNT, BUNDLED_TRAIN_COUNT, bundled_mnist};
pub use error::DataError;
pub use fetch::{MNIST_MD5, MNIST_MIRRORS, describe_mnist_dir, fetch_mnist, uncompressed_md5, verify_mnist_dir};
pub use idx::{IdxImages, parse_idx_images, parse_idx_labels, read_idx_file};
pub use loader::{BUCKET_BATCHES, EpochShuffleLoader, SequentialLoader, make_batch};
pub use plasticity_core::{Batch, ClassBatch, ExampleSet, Examples};
pub use mnist::{MNIST_CLASSES, MNIST_FILES, Mnist, Split, find_mnist_file, load_mnist_dir};
pub use rng::{SplitMix64, mix, permutation};
pub use set::{HSU_MEAN, HSU_STD, ImageSet, MNIST_MEAN, MNIST_STD};
pub use transform::{permute_image, rotate_image};

/// Environment variable naming the shared data directory (the one holding `mnist/`).
pub const DATA_DIR_ENV: &str = "PLASTICITY_DATA";

#[cfg(test)]
mod tests;
