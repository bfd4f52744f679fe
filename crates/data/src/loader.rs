//! Burn [`DataLoader`]s over any [`ExampleSet`]: an epoch-keyed shuffling loader for training
//! and a sequential one for validation and test.
//!
//! Image batches are gathered straight from `ImageSet::features` into one `Vec<f32>` and
//! uploaded with a single `Tensor::from_data` call per batch (no per-example tensors, no
//! `Batcher` round trip).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use burn::data::dataloader::{DataLoader, DataLoaderIterator, Progress};
use burn::data::dataset::DatasetError;
use burn::prelude::*;

use crate::DataError;
use crate::rng::{mix, permutation};
use crate::set::ImageSet;
use plasticity_core::{Batch, ClassBatch, ExampleSet, Examples, Input};

/// Builds one batch from the examples at `indices` of `set`.
pub fn make_batch(set: &ImageSet, indices: &[usize], device: &Device) -> ClassBatch {
    let dim = set.dim();
    let mut features = Vec::with_capacity(indices.len() * dim);
    let mut targets = Vec::with_capacity(indices.len());
    for &i in indices {
        // Indices come from this crate's own orders, so they are always in range.
        if let (Some(img), Some(&label)) = (set.image(i), set.labels.get(i)) {
            features.extend_from_slice(img);
            targets.push(i64::from(label));
        }
    }
    let n = targets.len();
    ClassBatch {
        input: Tensor::<2>::from_data(TensorData::new(features, [n, dim]), device),
        targets: Tensor::<1, Int>::from_data(TensorData::new(targets, [n]), device),
    }
}

impl ExampleSet<Tensor<2>> for ImageSet {
    fn len(&self) -> usize {
        ImageSet::len(self)
    }
    fn batch(&self, indices: &[usize], device: &Device) -> ClassBatch {
        make_batch(self, indices, device)
    }
    fn label(&self, index: usize) -> usize {
        self.labels.get(index).map_or(0, |&l| usize::from(l))
    }
    fn num_classes(&self) -> usize {
        self.num_classes
    }
}

fn check_batch_size(operation: &'static str, batch_size: usize) -> Result<(), DataError> {
    if batch_size == 0 {
        return Err(DataError::invalid(operation, "batch_size must be at least 1"));
    }
    Ok(())
}

/// Batches per window sorted by length when examples differ in length (see [`EpochShuffleLoader`]).
pub const BUCKET_BATCHES: usize = 50;

/// Shuffling training loader whose order is a pure function of `(seed, epoch)`.
///
/// Every call of [`DataLoader::iter`] yields one epoch. Epoch `e` (starting at `first_epoch`
/// and incremented by each `iter()`) visits the examples in the order
/// `permutation(len, mix(seed, e))`; the last, partial batch is kept. Because the order
/// depends only on `(seed, e)`, a run resumed at epoch `e` sees exactly the batches an
/// uninterrupted run would. Burn's own `DataLoaderBuilder::shuffle` cannot do this: its RNG
/// state advances with each epoch and is not checkpointed, so a resumed run gets a different
/// order.
///
/// **Length bucketing.** When the set's examples differ in length ([`ExampleSet::length`], token
/// sequences), batches are padded to their longest example, so the epoch order is bucketed as
/// torchtext's `BucketIterator` does: the shuffled order is cut into windows of
/// [`BUCKET_BATCHES`] batches, each window is sorted by length (stably) and cut into batches, and
/// the full batches are shuffled (`permutation(full batches, mix(mix(seed, e), 1))`; a partial
/// batch stays last). Every example is still seen once per epoch, and the order is still a pure function
/// of `(seed, e)`.
///
/// Clones and [`DataLoader::to_device`] copies share the epoch counter. A
/// [`DataLoader::slice`] (made by Burn's multi-device strategies, one per device) restricts the
/// epoch order to positions `start..end` and gets its own counter starting at the current
/// epoch, so each per-device slice advances once per epoch and the slices partition the epoch.
#[derive(Clone)]
pub struct EpochShuffleLoader<I: Input> {
    set: Examples<I>,
    batch_size: usize,
    seed: u64,
    epoch: Arc<AtomicUsize>,
    /// Positions `start..end` of the epoch order this loader covers.
    range: (usize, usize),
    device: Device,
}

impl<I: Input> EpochShuffleLoader<I> {
    /// Errors if `batch_size` is 0.
    pub fn new(
        set: Examples<I>,
        batch_size: usize,
        seed: u64,
        first_epoch: usize,
        device: Device,
    ) -> Result<Self, DataError> {
        check_batch_size("EpochShuffleLoader::new", batch_size)?;
        let range = (0, set.len());
        Ok(EpochShuffleLoader {
            set,
            batch_size,
            seed,
            epoch: Arc::new(AtomicUsize::new(first_epoch)),
            range,
            device,
        })
    }

    /// The full-dataset visiting order of `epoch` (before any slice restriction).
    pub fn epoch_order(&self, epoch: usize) -> Vec<usize> {
        let mut order = permutation(self.set.len(), mix(self.seed, epoch as u64));
        if self.set.is_empty() || self.set.length(0).is_none() || self.batch_size == 1 {
            return order;
        }
        let window = BUCKET_BATCHES * self.batch_size;
        for chunk in order.chunks_mut(window) {
            chunk.sort_by_key(|&i| self.set.length(i).unwrap_or(0));
        }
        // Full batches shuffled; the partial one (from the last window) stays last, where the
        // batch iterator expects it.
        let full = order.len() / self.batch_size;
        let batches: Vec<&[usize]> = order.chunks(self.batch_size).collect();
        let shuffled = permutation(full, mix(mix(self.seed, epoch as u64), 1));
        shuffled.into_iter().chain(full..batches.len()).flat_map(|b| batches[b].iter().copied()).collect()
    }

    /// The epoch the next `iter()` call will yield.
    pub fn next_epoch(&self) -> usize {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Batches per epoch (the last may be partial).
    pub fn num_batches(&self) -> usize {
        self.num_items().div_ceil(self.batch_size)
    }
}

impl<I: Input> DataLoader<Batch<I>> for EpochShuffleLoader<I> {
    fn iter<'a>(&'a self) -> Box<dyn DataLoaderIterator<Batch<I>> + 'a> {
        let epoch = self.epoch.fetch_add(1, Ordering::SeqCst);
        let order = self.epoch_order(epoch);
        let (start, end) = self.range;
        Box::new(BatchIter {
            set: self.set.as_ref(),
            order: order[start..end].to_vec(),
            batch_size: self.batch_size,
            position: 0,
            device: &self.device,
        })
    }

    fn num_items(&self) -> usize {
        self.range.1 - self.range.0
    }

    fn to_device(&self, device: &Device) -> Arc<dyn DataLoader<Batch<I>>> {
        let mut copy = self.clone();
        copy.device = device.clone();
        Arc::new(copy)
    }

    fn slice(&self, start: usize, end: usize) -> Arc<dyn DataLoader<Batch<I>>> {
        let mut copy = self.clone();
        copy.range = sub_range(self.range, start, end);
        copy.epoch = Arc::new(AtomicUsize::new(self.next_epoch()));
        Arc::new(copy)
    }
}

/// Loader in dataset order, for validation and test. Every `iter()` yields the same batches.
#[derive(Clone)]
pub struct SequentialLoader<I: Input> {
    set: Examples<I>,
    batch_size: usize,
    range: (usize, usize),
    device: Device,
}

impl<I: Input> SequentialLoader<I> {
    /// Errors if `batch_size` is 0.
    pub fn new(set: Examples<I>, batch_size: usize, device: Device) -> Result<Self, DataError> {
        check_batch_size("SequentialLoader::new", batch_size)?;
        let range = (0, set.len());
        Ok(SequentialLoader {
            set,
            batch_size,
            range,
            device,
        })
    }
}

impl<I: Input> DataLoader<Batch<I>> for SequentialLoader<I> {
    fn iter<'a>(&'a self) -> Box<dyn DataLoaderIterator<Batch<I>> + 'a> {
        Box::new(BatchIter {
            set: self.set.as_ref(),
            order: (self.range.0..self.range.1).collect(),
            batch_size: self.batch_size,
            position: 0,
            device: &self.device,
        })
    }

    fn num_items(&self) -> usize {
        self.range.1 - self.range.0
    }

    fn to_device(&self, device: &Device) -> Arc<dyn DataLoader<Batch<I>>> {
        let mut copy = self.clone();
        copy.device = device.clone();
        Arc::new(copy)
    }

    fn slice(&self, start: usize, end: usize) -> Arc<dyn DataLoader<Batch<I>>> {
        let mut copy = self.clone();
        copy.range = sub_range(self.range, start, end);
        Arc::new(copy)
    }
}

/// `start..end` relative to `range`, clamped so it never leaves `range` (Burn passes item
/// counts from `num_items`, but a bad call must not panic).
fn sub_range(range: (usize, usize), start: usize, end: usize) -> (usize, usize) {
    let lo = range.0.saturating_add(start).min(range.1);
    let hi = range.0.saturating_add(end).clamp(lo, range.1);
    (lo, hi)
}

/// Yields consecutive chunks of `order` as batches.
struct BatchIter<'a, I: Input> {
    set: &'a dyn ExampleSet<I>,
    order: Vec<usize>,
    batch_size: usize,
    position: usize,
    device: &'a Device,
}

impl<I: Input> Iterator for BatchIter<'_, I> {
    type Item = Result<Batch<I>, DatasetError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.position >= self.order.len() {
            return None;
        }
        let end = (self.position + self.batch_size).min(self.order.len());
        let batch = self.set.batch(&self.order[self.position..end], self.device);
        self.position = end;
        Some(Ok(batch))
    }
}

impl<I: Input> DataLoaderIterator<Batch<I>> for BatchIter<'_, I> {
    fn progress(&self) -> Progress {
        Progress::new(self.position, self.order.len(), None)
    }
}
