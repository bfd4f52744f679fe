//! A real MNIST subset compiled into the binary, so the quickstart runs offline.
//!
//! The files in `crates/data/bundled/` are made by `scripts/make_bundled_mnist.py` from the
//! canonical MNIST files; see `crates/data/bundled/README.md`.

use crate::DataError;
use crate::idx::{decode_maybe_gzip, parse_idx_images, parse_idx_labels};
use crate::mnist::{Mnist, Split};

/// Number of training examples bundled: the first 15,000 of the canonical training set.
pub const BUNDLED_TRAIN_COUNT: usize = 15_000;
/// Number of test examples bundled: the whole canonical test set.
pub const BUNDLED_TEST_COUNT: usize = 10_000;

/// What the bundled data is, where it comes from and under which licence.
pub const BUNDLED_DESCRIPTION: &str = "\
Bundled MNIST subset (real, unmodified images): the first 15,000 training images and labels \
(indices 0..15000 of train-images-idx3-ubyte / train-labels-idx1-ubyte) and all 10,000 test \
images and labels (t10k-images-idx3-ubyte / t10k-labels-idx1-ubyte), 28x28 uint8, labels 0-9. \
Stored as gzipped IDX files (about 4.0 MB compressed, 19.6 MB decoded). \
MNIST by Yann LeCun, Corinna Cortes and Christopher J.C. Burges, usually distributed under \
CC BY-SA 3.0. For the full 60,000 training images run `plasticity data fetch mnist`.";

const TRAIN_IMAGES_NAME: &str = "bundled/train-images-15k-idx3-ubyte.gz";
const TRAIN_LABELS_NAME: &str = "bundled/train-labels-15k-idx1-ubyte.gz";
const TEST_IMAGES_NAME: &str = "bundled/t10k-images-idx3-ubyte.gz";
const TEST_LABELS_NAME: &str = "bundled/t10k-labels-idx1-ubyte.gz";

static TRAIN_IMAGES: &[u8] = include_bytes!("../bundled/train-images-15k-idx3-ubyte.gz");
static TRAIN_LABELS: &[u8] = include_bytes!("../bundled/train-labels-15k-idx1-ubyte.gz");
static TEST_IMAGES: &[u8] = include_bytes!("../bundled/t10k-images-idx3-ubyte.gz");
static TEST_LABELS: &[u8] = include_bytes!("../bundled/t10k-labels-idx1-ubyte.gz");

/// Decodes the bundled subset: `train` has 15,000 examples, `test` 10,000 (28x28 each).
/// Takes about 0.1 s (gunzip); the result is not cached, so call it once.
pub fn bundled_mnist() -> Result<Mnist, DataError> {
    let (train, test) = std::thread::scope(|scope| {
        let train = scope.spawn(|| decode_split(TRAIN_IMAGES, TRAIN_IMAGES_NAME, TRAIN_LABELS, TRAIN_LABELS_NAME));
        let test = decode_split(TEST_IMAGES, TEST_IMAGES_NAME, TEST_LABELS, TEST_LABELS_NAME);
        let train = train
            .join()
            .unwrap_or_else(|_| Err(DataError::invalid("bundled_mnist", "the decoder thread panicked")));
        (train, test)
    });
    Ok(Mnist {
        train: train?,
        test: test?,
    })
}

fn decode_split(images: &[u8], images_origin: &str, labels: &[u8], labels_origin: &str) -> Result<Split, DataError> {
    let images = parse_idx_images(&decode_maybe_gzip(images.to_vec(), images_origin)?, images_origin)?;
    let labels = parse_idx_labels(&decode_maybe_gzip(labels.to_vec(), labels_origin)?, labels_origin)?;
    Split::new(images, images_origin, labels, labels_origin)
}
