//! [`ImageSet`]: the in-memory classification dataset that training code uses.

use crate::DataError;
use crate::mnist::{MNIST_CLASSES, Split};
use crate::rng::permutation;
use crate::transform::{permute_image, rotate_image};

/// Mean of the MNIST training pixels scaled to [0, 1] (torchvision's constant).
pub const MNIST_MEAN: f32 = 0.1307;
/// Standard deviation of the MNIST training pixels scaled to [0, 1] (torchvision's constant).
pub const MNIST_STD: f32 = 0.3081;
/// Mean and standard deviation of MNIST zero-padded to 32×32, as Hsu et al. 2018 normalise it
/// (GT-RIPL/Continual-Learning-Benchmark, `dataloaders/base.py`; continual.md §2.4).
pub const HSU_MEAN: f32 = 0.1000;
pub const HSU_STD: f32 = 0.2752;

/// Images with class labels, held in memory.
///
/// `features` is `[len, rows * cols]` row-major; `labels` is `[len]` with values
/// `< num_classes`. Seeded operations are fully determined by their seed (see [`crate::rng`]).
#[derive(Clone, Debug, PartialEq)]
pub struct ImageSet {
    pub features: Vec<f32>,
    pub labels: Vec<u8>,
    pub rows: usize,
    pub cols: usize,
    pub num_classes: usize,
}

impl ImageSet {
    /// Pixels scaled from 0..=255 to [0, 1] as `f32`; `num_classes` is 10.
    pub fn from_split(split: &Split) -> ImageSet {
        ImageSet {
            features: split.images.pixels.iter().map(|&p| f32::from(p) / 255.0).collect(),
            labels: split.labels.clone(),
            rows: split.images.rows,
            cols: split.images.cols,
            num_classes: MNIST_CLASSES,
        }
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Features per example (`rows * cols`).
    pub fn dim(&self) -> usize {
        self.rows * self.cols
    }

    /// Features of example `index`, `[rows * cols]`; `None` when out of range.
    pub fn image(&self, index: usize) -> Option<&[f32]> {
        let d = self.dim();
        self.features.get(index * d..(index + 1) * d)
    }

    /// Examples per class, `[num_classes]` (labels `>= num_classes` are not counted).
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.num_classes];
        for &l in &self.labels {
            if let Some(c) = counts.get_mut(usize::from(l)) {
                *c += 1;
            }
        }
        counts
    }

    /// In place: `x <- (x - mean) / std`. Errors if `std` is not a positive finite number.
    pub fn normalize(&mut self, mean: f32, std: f32) -> Result<(), DataError> {
        if !(std.is_finite() && std > 0.0 && mean.is_finite()) {
            return Err(DataError::invalid(
                "normalize",
                format!("need finite mean and std > 0, got mean {mean}, std {std}"),
            ));
        }
        let inv = 1.0 / std;
        self.features.iter_mut().for_each(|x| *x = (*x - mean) * inv);
        Ok(())
    }

    /// In place: zero-pads every image to `side × side`, centred (28 → 32 adds 2 pixels on each
    /// side, as Hsu et al.'s `transforms.Pad(2)`). Errors if `side` is smaller than the images.
    pub fn pad(&mut self, side: usize) -> Result<(), DataError> {
        if side < self.rows || side < self.cols {
            return Err(DataError::invalid(
                "pad",
                format!("cannot pad {}×{} images to {side}×{side}", self.rows, self.cols),
            ));
        }
        let (top, left) = ((side - self.rows) / 2, (side - self.cols) / 2);
        let mut out = vec![0.0f32; self.len() * side * side];
        for (src, dst) in self.features.chunks(self.dim().max(1)).zip(out.chunks_mut(side * side)) {
            for r in 0..self.rows {
                let from = &src[r * self.cols..(r + 1) * self.cols];
                dst[(top + r) * side + left..(top + r) * side + left + self.cols].copy_from_slice(from);
            }
        }
        self.features = out;
        self.rows = side;
        self.cols = side;
        Ok(())
    }

    /// In place: rotates every image by `degrees` (counter-clockwise as displayed; see
    /// [`rotate_image`]). Uses all cores since 60,000 images take a while on one.
    pub fn rotate(&mut self, degrees: f32) {
        let all = vec![true; self.len()];
        self.rotate_where(&all, degrees);
    }

    /// In place: rotates exactly `round(fraction * len)` images, chosen as the first ones of
    /// `permutation(len, seed)`, and returns `[len]` flags telling which were rotated.
    pub fn rotate_fraction(&mut self, degrees: f32, fraction: f32, seed: u64) -> Result<Vec<bool>, DataError> {
        if !(0.0..=1.0).contains(&fraction) {
            return Err(DataError::invalid(
                "rotate_fraction",
                format!("fraction must be in [0, 1], got {fraction}"),
            ));
        }
        let count = ((fraction as f64) * self.len() as f64).round() as usize;
        let mut chosen = vec![false; self.len()];
        for &i in permutation(self.len(), seed).iter().take(count) {
            chosen[i] = true;
        }
        self.rotate_where(&chosen, degrees);
        Ok(chosen)
    }

    fn rotate_where(&mut self, which: &[bool], degrees: f32) {
        let (rows, cols, dim) = (self.rows, self.cols, self.dim());
        if dim == 0 || self.is_empty() {
            return;
        }
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let per_thread = self.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let chunks = self.features.chunks_mut(per_thread * dim);
            for (chunk, flags) in chunks.zip(which.chunks(per_thread)) {
                scope.spawn(move || {
                    for (img, &rotate) in chunk.chunks_mut(dim).zip(flags) {
                        if rotate {
                            let out = rotate_image(img, rows, cols, degrees);
                            img.copy_from_slice(&out);
                        }
                    }
                });
            }
        });
    }

    /// In place: applies one pixel permutation, `permutation(dim, seed)`, to every image:
    /// new pixel `j` = old pixel `perm[j]` (the permuted-MNIST continual-learning task).
    pub fn permute_pixels(&mut self, seed: u64) {
        let perm = permutation(self.dim(), seed);
        let dim = self.dim().max(1);
        for img in self.features.chunks_mut(dim) {
            let out = permute_image(img, &perm);
            img.copy_from_slice(&out);
        }
    }

    /// The examples at `indices`, in that order (indices out of range are skipped).
    pub fn select(&self, indices: &[usize]) -> ImageSet {
        let d = self.dim();
        let kept: Vec<usize> = indices.iter().copied().filter(|&i| i < self.len()).collect();
        let mut features = Vec::with_capacity(kept.len() * d);
        for &i in &kept {
            features.extend_from_slice(&self.features[i * d..(i + 1) * d]);
        }
        ImageSet {
            features,
            labels: kept.iter().map(|&i| self.labels[i]).collect(),
            rows: self.rows,
            cols: self.cols,
            num_classes: self.num_classes,
        }
    }

    /// Only the examples whose label is in `classes`, in dataset order. Labels keep their
    /// original values (and `num_classes` is unchanged), so class 7 is still 7.
    pub fn select_classes(&self, classes: &[u8]) -> ImageSet {
        let idx: Vec<usize> = (0..self.len()).filter(|&i| classes.contains(&self.labels[i])).collect();
        self.select(&idx)
    }

    /// A random sample of `n` examples without replacement: the first `n` of
    /// `permutation(len, seed)`, kept in dataset order. Errors if `n > len`.
    pub fn subset(&self, n: usize, seed: u64) -> Result<ImageSet, DataError> {
        if n > self.len() {
            return Err(DataError::invalid(
                "subset",
                format!("asked for {n} examples but the set has only {}", self.len()),
            ));
        }
        let mut idx = permutation(self.len(), seed);
        idx.truncate(n);
        idx.sort_unstable();
        Ok(self.select(&idx))
    }

    /// Splits into `(train, valid)` with exactly `valid` examples in `valid`: the first `valid`
    /// of `permutation(len, seed)`; both parts keep dataset order. Errors if `valid >= len`.
    pub fn holdout(&self, valid: usize, seed: u64) -> Result<(ImageSet, ImageSet), DataError> {
        if valid >= self.len() {
            return Err(DataError::invalid(
                "holdout",
                format!(
                    "asked for {valid} validation examples but the set has only {} (need fewer, so training keeps at least one)",
                    self.len()
                ),
            ));
        }
        let perm = permutation(self.len(), seed);
        let (mut v, mut t) = (perm[..valid].to_vec(), perm[valid..].to_vec());
        v.sort_unstable();
        t.sort_unstable();
        Ok((self.select(&t), self.select(&v)))
    }

    /// `self` followed by `other`. Errors if the image sizes differ; `num_classes` is the max.
    pub fn concat(&self, other: &ImageSet) -> Result<ImageSet, DataError> {
        if (self.rows, self.cols) != (other.rows, other.cols) {
            return Err(DataError::invalid(
                "concat",
                format!(
                    "image sizes differ: {}x{} vs {}x{}",
                    self.rows, self.cols, other.rows, other.cols
                ),
            ));
        }
        let mut out = self.clone();
        out.features.extend_from_slice(&other.features);
        out.labels.extend_from_slice(&other.labels);
        out.num_classes = self.num_classes.max(other.num_classes);
        Ok(out)
    }
}
