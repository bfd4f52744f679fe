//! Epoch-keyed shuffling: same (seed, epoch) -> same batches, also after a resume.

use std::sync::Arc;

use burn::data::dataloader::DataLoader;
use burn::prelude::*;

use crate::{ClassBatch, EpochShuffleLoader, ImageSet, SequentialLoader, mix, permutation};

/// `n` 2x2 images; feature 0 of image i is i (an id), label i % 10.
fn ids(n: usize) -> crate::Examples<Tensor<2>> {
    let mut features = vec![0.5f32; n * 4];
    for i in 0..n {
        features[i * 4] = i as f32;
    }
    Arc::new(ImageSet {
        features,
        labels: (0..n).map(|i| (i % 10) as u8).collect(),
        rows: 2,
        cols: 2,
        num_classes: 10,
    })
}

/// (ids, targets, batch sizes) of one epoch.
fn epoch(loader: &dyn DataLoader<ClassBatch>) -> (Vec<usize>, Vec<i64>, Vec<usize>) {
    let (mut seen, mut targets, mut sizes) = (vec![], vec![], vec![]);
    for batch in loader.iter() {
        let batch = batch.expect("in-memory batches never fail");
        let [b, d] = batch.input.dims();
        assert_eq!(d, 4);
        assert_eq!(batch.targets.dims(), [b]);
        let images = batch.input.into_data().try_into_vec_as::<f32>().expect("f32");
        seen.extend(images.chunks(4).map(|img| img[0] as usize));
        targets.extend(batch.targets.into_data().try_into_vec_as::<i64>().expect("i64"));
        sizes.push(b);
    }
    (seen, targets, sizes)
}

#[test]
fn same_seed_same_epoch_same_batches_and_shapes() {
    let device = Device::flex();
    let a = EpochShuffleLoader::new(ids(23), 5, 11, 0, device.clone()).expect("loader");
    let b = EpochShuffleLoader::new(ids(23), 5, 11, 0, device).expect("loader");
    let (ea, eb) = (epoch(&a), epoch(&b));
    assert_eq!(ea, eb);
    assert_eq!(ea.0, permutation(23, mix(11, 0)));
    assert_eq!(ea.0, a.epoch_order(0));
    assert_eq!(ea.2, vec![5, 5, 5, 5, 3]); // last partial batch kept
    assert_eq!(ea.1, ea.0.iter().map(|&i| (i % 10) as i64).collect::<Vec<_>>());
    let mut sorted = ea.0.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..23).collect::<Vec<_>>()); // every example exactly once
    assert_eq!((a.num_items(), a.num_batches(), a.next_epoch()), (23, 5, 1));
}

#[test]
fn resumed_loader_matches_uninterrupted_run() {
    let device = Device::flex();
    let fresh = EpochShuffleLoader::new(ids(40), 8, 3, 0, device.clone()).expect("loader");
    let epochs: Vec<_> = (0..4).map(|_| epoch(&fresh)).collect();
    let resumed = EpochShuffleLoader::new(ids(40), 8, 3, 3, device).expect("loader");
    assert_eq!(epoch(&resumed), epochs[3]);
    assert_ne!(epochs[0].0, epochs[1].0);
    assert_ne!(epochs[1].0, epochs[2].0);
    let other_seed = EpochShuffleLoader::new(ids(40), 8, 4, 0, Device::flex()).expect("loader");
    assert_ne!(epoch(&other_seed).0, epochs[0].0);
}

#[test]
fn progress_counts_items() {
    let loader = EpochShuffleLoader::new(ids(10), 4, 0, 0, Device::flex()).expect("loader");
    let mut it = loader.iter();
    assert_eq!(it.progress().items_processed, 0);
    let _ = it.next();
    let p = it.progress();
    assert_eq!((p.items_processed, p.items_total), (4, 10));
    while it.next().is_some() {}
    assert!(it.progress().is_completed());
}

#[test]
fn slices_partition_the_epoch_and_to_device_shares_the_counter() {
    let device = Device::flex();
    let loader = EpochShuffleLoader::new(ids(30), 4, 8, 2, device.clone()).expect("loader");
    let (s1, s2) = (loader.slice(0, 12), loader.slice(12, 30));
    assert_eq!((s1.num_items(), s2.num_items()), (12, 18));
    for e in 2..4 {
        let mut both = epoch(s1.as_ref()).0;
        both.extend(epoch(s2.as_ref()).0);
        assert_eq!(both, loader.epoch_order(e), "epoch {e}");
    }
    // The parent's counter is untouched by the slices; a device copy advances it.
    assert_eq!(loader.next_epoch(), 2);
    let moved = loader.to_device(&device);
    assert_eq!(epoch(moved.as_ref()).0, loader.epoch_order(2));
    assert_eq!(loader.next_epoch(), 3);
    assert_eq!(loader.slice(25, 99).num_items(), 5); // clamped, no panic
}

#[test]
fn sequential_loader_is_in_dataset_order() {
    let loader = SequentialLoader::new(ids(7), 3, Device::flex()).expect("loader");
    let (seen, targets, sizes) = epoch(&loader);
    assert_eq!(seen, (0..7).collect::<Vec<_>>());
    assert_eq!(targets, vec![0, 1, 2, 3, 4, 5, 6]);
    assert_eq!(sizes, vec![3, 3, 1]);
    assert_eq!(epoch(&loader).0, seen); // every pass is the same
    assert_eq!(epoch(loader.slice(2, 5).as_ref()).0, vec![2, 3, 4]);
    assert!(SequentialLoader::new(ids(7), 0, Device::flex()).is_err());
    assert!(EpochShuffleLoader::new(ids(7), 0, 0, 0, Device::flex()).is_err());
}

/// Token sequences of varying lengths are bucketed: each epoch still visits every example once in
/// an order fixed by `(seed, epoch)`, batches hold examples of similar length (padding falls far
/// below a plain shuffle's), full batches come in shuffled order and the partial one comes last.
#[test]
fn token_batches_are_bucketed_by_length() {
    use crate::text::TokenSet;
    use plasticity_core::{Batch, Tokens};
    use crate::BUCKET_BATCHES;
    let n = 2 * BUCKET_BATCHES * 4 + 3; // two full windows of batch 4, and a partial batch
    // Lengths 1..=40 scattered over the examples; example i's first token is its id.
    let lengths: Vec<usize> = (0..n).map(|i| 1 + (i * 7919) % 40).collect();
    let set: crate::Examples<Tokens> = Arc::new(TokenSet {
        ids: (0..n).map(|i| std::iter::once(i as u32).chain(std::iter::repeat_n(5, lengths[i] - 1)).collect()).collect(),
        labels: (0..n).map(|i| (i % 2) as u8).collect(),
        pad: 0,
        num_classes: 2,
    });
    let device = Device::flex();
    let loader = EpochShuffleLoader::new(set.clone(), 4, 7, 0, device.clone()).expect("loader");
    let mut seen = Vec::new();
    let (mut padded, mut sizes) = (0usize, Vec::new());
    for batch in loader.iter() {
        let Batch { input, .. } = batch.expect("in-memory batches never fail");
        let [b, longest] = input.ids.dims();
        let ids = input.ids.into_data().try_into_vec_as::<i64>().expect("i64");
        seen.extend(ids.chunks(longest).map(|row| row[0] as usize));
        padded += b * longest;
        sizes.push(b);
    }
    assert_eq!(seen, loader.epoch_order(0));
    assert_eq!(sizes.last(), Some(&3));
    assert!(sizes[..sizes.len() - 1].iter().all(|&b| b == 4));
    let mut sorted = seen.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..n).collect::<Vec<_>>());
    // A plain shuffle of the same examples, padded per batch, for comparison.
    let plain: usize = permutation(n, mix(7, 0))
        .chunks(4)
        .map(|c| c.len() * c.iter().map(|&i| lengths[i]).max().unwrap())
        .sum();
    let real: usize = lengths.iter().sum();
    assert!(padded - real < (plain - real) / 4, "bucketed {padded} vs plain {plain} (real {real})");
    // Batches are not in length order across the epoch (they were shuffled).
    let firsts: Vec<usize> = seen.chunks(4).map(|c| lengths[c[0]]).collect();
    assert!(firsts.windows(2).any(|w| w[0] > w[1]) && firsts.windows(2).any(|w| w[0] < w[1]));
    // Pure function of (seed, epoch): a second loader gives the same order; another epoch differs.
    let again = EpochShuffleLoader::new(set, 4, 7, 0, device).expect("loader");
    assert_eq!(again.epoch_order(0), seen);
    assert_ne!(again.epoch_order(1), seen);
}
