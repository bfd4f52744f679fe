//! Known facts about the canonical MNIST files, and the bundled subset against them.

use super::{bundled, full_mnist};
use crate::{BUNDLED_DESCRIPTION, BUNDLED_TEST_COUNT, BUNDLED_TRAIN_COUNT, ImageSet};

#[test]
#[ignore = "needs the full MNIST files (../shared/data beside the repository, or PLASTICITY_DATA); run with `cargo test --workspace -- --include-ignored`"]
fn full_mnist_matches_known_facts() {
    let m = full_mnist();
    assert_eq!(m.train.images.count, 60_000);
    assert_eq!(m.test.images.count, 10_000);
    assert_eq!((m.train.images.rows, m.train.images.cols), (28, 28));
    assert_eq!(m.train.labels.len(), 60_000);
    assert_eq!(m.test.labels.len(), 10_000);
    assert_eq!(&m.train.labels[..10], &[5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    assert_eq!(
        m.train.class_counts(),
        [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    );
    let sum: u64 = m.train.images.pixels.iter().map(|&p| u64::from(p)).sum();
    let mean = sum as f64 / m.train.images.pixels.len() as f64 / 255.0;
    assert!((mean - 0.1307).abs() < 1e-4, "mean pixel/255 = {mean}");
}

#[test]
#[ignore = "needs the full MNIST files (../shared/data beside the repository, or PLASTICITY_DATA); run with `cargo test --workspace -- --include-ignored`"]
fn bundled_train_is_first_15k_of_full_and_test_is_full_test() {
    let (full, small) = (full_mnist(), bundled());
    assert_eq!(small.train.images.count, BUNDLED_TRAIN_COUNT);
    assert_eq!(small.test.images.count, BUNDLED_TEST_COUNT);
    let dim = 28 * 28;
    assert_eq!(
        small.train.images.pixels,
        full.train.images.pixels[..BUNDLED_TRAIN_COUNT * dim]
    );
    assert_eq!(small.train.labels, full.train.labels[..BUNDLED_TRAIN_COUNT]);
    assert_eq!(small.test, full.test);
    assert_eq!(&small.train.labels[..10], &[5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
}

#[test]
fn bundled_description_says_what_and_licence() {
    for needle in [
        "15,000",
        "10,000",
        "LeCun",
        "Cortes",
        "Burges",
        "CC BY-SA 3.0",
        "0..15000",
    ] {
        assert!(BUNDLED_DESCRIPTION.contains(needle), "missing {needle:?}");
    }
}

#[test]
#[ignore = "needs the full MNIST files (../shared/data beside the repository, or PLASTICITY_DATA); run with `cargo test --workspace -- --include-ignored`"]
fn imageset_from_split_scales_and_normalizes_to_unit_stats() {
    let mut set = ImageSet::from_split(&full_mnist().train);
    assert_eq!((set.len(), set.dim(), set.num_classes), (60_000, 784, 10));
    // Image 0 (a "5"): its pixel sum in 0..=255 units is fixed by the file.
    let raw0: u32 = full_mnist().train.images.pixels[..784]
        .iter()
        .map(|&p| u32::from(p))
        .sum();
    let scaled0: f32 = set.image(0).unwrap_or_default().iter().sum();
    assert!((scaled0 - raw0 as f32 / 255.0).abs() < 1e-3);
    assert!(set.features.iter().all(|&x| (0.0..=1.0).contains(&x)));
    set.normalize(crate::MNIST_MEAN, crate::MNIST_STD).expect("valid stats");
    let n = set.features.len() as f64;
    let mean = set.features.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let var = set.features.iter().map(|&x| (f64::from(x) - mean).powi(2)).sum::<f64>() / n;
    assert!(mean.abs() < 1e-3, "normalized mean {mean}");
    assert!((var.sqrt() - 1.0).abs() < 1e-3, "normalized std {}", var.sqrt());
    assert!(set.normalize(0.0, 0.0).is_err());
}
