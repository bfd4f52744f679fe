//! Loading the four canonical MNIST files (LeCun, Cortes, Burges) from a directory.

use std::path::{Path, PathBuf};

use crate::DataError;
use crate::idx::{IdxImages, parse_idx_images, parse_idx_labels, read_idx_file};

/// Number of MNIST classes (digits 0-9).
pub const MNIST_CLASSES: usize = 10;

/// Canonical file names (without `.gz`) of the training images, training labels, test images
/// and test labels.
pub const MNIST_FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// One split: `images.count == labels.len()` and every label is `< 10` (checked on creation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    pub images: IdxImages,
    pub labels: Vec<u8>,
}

impl Split {
    /// Pairs images with labels, checking their counts agree and the labels are digits 0-9.
    /// The origins are the file names used in error messages.
    pub fn new(
        images: IdxImages,
        images_origin: &str,
        labels: Vec<u8>,
        labels_origin: &str,
    ) -> Result<Split, DataError> {
        if images.count != labels.len() {
            return Err(DataError::CountMismatch {
                images_origin: images_origin.to_string(),
                images: images.count,
                labels_origin: labels_origin.to_string(),
                labels: labels.len(),
            });
        }
        if let Some((index, &value)) = labels
            .iter()
            .enumerate()
            .find(|&(_, &l)| usize::from(l) >= MNIST_CLASSES)
        {
            return Err(DataError::LabelOutOfRange {
                origin: labels_origin.to_string(),
                index,
                value,
                num_classes: MNIST_CLASSES,
            });
        }
        Ok(Split { images, labels })
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the split has no examples (never true for a parsed IDX file).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Examples per class, `[10]`.
    pub fn class_counts(&self) -> [usize; MNIST_CLASSES] {
        let mut counts = [0; MNIST_CLASSES];
        for &l in &self.labels {
            counts[usize::from(l) % MNIST_CLASSES] += 1;
        }
        counts
    }
}

/// MNIST: 60,000 training and 10,000 test 28x28 images for the canonical files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mnist {
    pub train: Split,
    pub test: Split,
}

/// Finds `name` in `dir/mnist/` then `dir/`, raw or `.gz` (raw first in each directory).
pub fn find_mnist_file(dir: &Path, name: &str) -> Result<PathBuf, DataError> {
    let tried: Vec<PathBuf> = [dir.join("mnist"), dir.to_path_buf()]
        .iter()
        .flat_map(|d| [d.join(name), d.join(format!("{name}.gz"))])
        .collect();
    match tried.iter().find(|p| p.is_file()) {
        Some(found) => Ok(found.clone()),
        None => Err(DataError::MissingFile {
            name: name.to_string(),
            tried,
        }),
    }
}

/// Loads MNIST from `dir/mnist/` or `dir/` (see [`find_mnist_file`]). The training split is
/// decoded on a second thread while the test split is decoded on this one.
pub fn load_mnist_dir(dir: &Path) -> Result<Mnist, DataError> {
    // Resolve all paths first so a missing file is reported before any slow decoding.
    let paths = MNIST_FILES
        .iter()
        .map(|name| find_mnist_file(dir, name))
        .collect::<Result<Vec<_>, _>>()?;
    let (train, test) = std::thread::scope(|scope| {
        let train = scope.spawn(|| load_split_files(&paths[0], &paths[1]));
        let test = load_split_files(&paths[2], &paths[3]);
        let train = train.join().unwrap_or_else(|_| {
            Err(DataError::invalid(
                "load_mnist_dir",
                "the training-split loader thread panicked",
            ))
        });
        (train, test)
    });
    Ok(Mnist {
        train: train?,
        test: test?,
    })
}

/// Reads one images file and one labels file (raw or gzipped) into a checked [`Split`].
pub fn load_split_files(images_path: &Path, labels_path: &Path) -> Result<Split, DataError> {
    let images_origin = images_path.display().to_string();
    let labels_origin = labels_path.display().to_string();
    let images = parse_idx_images(&read_idx_file(images_path)?, &images_origin)?;
    let labels = parse_idx_labels(&read_idx_file(labels_path)?, &labels_origin)?;
    Split::new(images, &images_origin, labels, &labels_origin)
}
