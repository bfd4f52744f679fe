//! Turns the `[data]` table into train / validation / test sets.

use crate::config::{DataConfig, Dataset, Preprocessing};
use crate::error::{Result, TrainError};
use plasticity_data::{HSU_MEAN, HSU_STD, ImageSet, MNIST_MEAN, MNIST_STD, Mnist, bundled_mnist, load_mnist_dir, mix};
use std::path::Path;
use std::sync::Arc;

/// The three splits of a run. Validation is a seeded hold-out of the training images; the test
/// set is only used for the final evaluation.
pub struct Splits {
    pub train: Arc<ImageSet>,
    pub valid: Arc<ImageSet>,
    pub test: Arc<ImageSet>,
}

// Independent random streams derived from the run seed.
const STREAM_HOLDOUT: u64 = 1;
pub(crate) const STREAM_SUBSET: u64 = 2;
const STREAM_ROTATE: u64 = 3;
/// The training loader's shuffle seed: epoch e then visits `permutation(n, mix(shuffle_seed, e))`.
pub const STREAM_SHUFFLE: u64 = 4;
/// The device RNG during training (dropout, TriAdaptLoRA's new blocks): reseeded at the start of
/// epoch e with `mix(mix(seed, STREAM_TRAIN_RNG), e)`, so a resumed run draws what an
/// uninterrupted one would.
pub const STREAM_TRAIN_RNG: u64 = 5;

/// Loads the configured dataset (bundled, or the full files from `data_dir`).
pub fn load_raw(config: &DataConfig) -> Result<Mnist> {
    match config.dataset {
        Dataset::MnistBundled => Ok(bundled_mnist()?),
        Dataset::Mnist => {
            let Some(dir) = &config.data_dir else {
                return Err(TrainError::config(
                    "data.dataset",
                    "\"mnist\" needs the full MNIST files: pass --data-dir DIR, set data.data_dir, or set PLASTICITY_DATA \
                     (or run `plasticity data fetch mnist`)",
                ));
            };
            Ok(load_mnist_dir(Path::new(dir))?)
        }
        Dataset::MovieReviews => Err(TrainError::config("data.dataset", "\"movie-reviews\" is text: it goes with [model] kind = \"bert\", not with an image model")),
    }
}

/// Applies class subset, rotation, permutation and normalisation to one split.
/// `stream` keeps the rotated subsets of different splits independent.
fn transform(mut set: ImageSet, config: &DataConfig, seed: u64, stream: u64) -> Result<ImageSet> {
    let (mean, std) = match config.preprocessing {
        Preprocessing::Standard => (MNIST_MEAN, MNIST_STD),
        Preprocessing::Hsu => {
            set.pad(32)?;
            (HSU_MEAN, HSU_STD)
        }
    };
    if let Some(degrees) = config.rotate_degrees {
        if config.rotate_fraction >= 1.0 {
            set.rotate(degrees);
        } else if config.rotate_fraction > 0.0 {
            set.rotate_fraction(degrees, config.rotate_fraction, mix(mix(seed, STREAM_ROTATE), stream))?;
        }
    }
    if let Some(permute_seed) = config.permute_seed {
        set.permute_pixels(permute_seed);
    }
    if config.normalize {
        set.normalize(mean, std)?;
    }
    Ok(set)
}

/// Builds the splits of a run from the raw dataset.
pub fn prepare(raw: &Mnist, config: &DataConfig, seed: u64) -> Result<Splits> {
    let mut train_all = ImageSet::from_split(&raw.train);
    let mut test = ImageSet::from_split(&raw.test);
    if let Some(classes) = &config.classes {
        train_all = train_all.select_classes(classes);
        test = test.select_classes(classes);
    }
    let (mut train, valid) = train_all.holdout(config.valid_size, mix(seed, STREAM_HOLDOUT))?;
    if let Some(n) = config.train_subset {
        train = train.subset(n, mix(seed, STREAM_SUBSET))?;
    }
    Ok(Splits {
        train: Arc::new(transform(train, config, seed, 0)?),
        valid: Arc::new(transform(valid, config, seed, 1)?),
        test: Arc::new(transform(test, config, seed, 2)?),
    })
}

/// The test split only, for `plasticity eval`.
pub fn prepare_test(raw: &Mnist, config: &DataConfig, seed: u64) -> Result<Arc<ImageSet>> {
    let mut test = ImageSet::from_split(&raw.test);
    if let Some(classes) = &config.classes {
        test = test.select_classes(classes);
    }
    Ok(Arc::new(transform(test, config, seed, 2)?))
}
