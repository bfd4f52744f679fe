//! ImageSet transforms on small synthetic sets and on the bundled subset.

use super::bundled;
use crate::{ImageSet, permutation, rotate_image};

/// `n` 3x3 images; image i has feature 0 equal to i (an id) and label i % 10.
fn ids(n: usize) -> ImageSet {
    let mut features = vec![0.0f32; n * 9];
    for i in 0..n {
        features[i * 9] = i as f32;
        features[i * 9 + 4] = 1.0;
    }
    ImageSet {
        features,
        labels: (0..n).map(|i| (i % 10) as u8).collect(),
        rows: 3,
        cols: 3,
        num_classes: 10,
    }
}

fn id_list(set: &ImageSet) -> Vec<usize> {
    set.features.chunks(set.dim()).map(|img| img[0] as usize).collect()
}

#[test]
fn select_classes_keeps_original_labels() {
    let set = ImageSet::from_split(&bundled().test);
    let part = set.select_classes(&[3, 7]);
    let counts = set.class_counts();
    assert_eq!(part.len(), counts[3] + counts[7]);
    assert!(part.labels.iter().all(|&l| l == 3 || l == 7));
    assert_eq!(part.num_classes, 10);
    // MNIST test set class counts are fixed: 1010 threes and 1028 sevens.
    assert_eq!((counts[3], counts[7]), (1010, 1028));
}

#[test]
fn subset_is_seeded_sample_without_replacement() {
    let set = ids(100);
    let a = set.subset(30, 5).expect("30 <= 100");
    let ids_a = id_list(&a);
    assert_eq!(ids_a.len(), 30);
    let mut expected: Vec<usize> = permutation(100, 5)[..30].to_vec();
    expected.sort_unstable();
    assert_eq!(ids_a, expected); // distinct, in dataset order
    assert_eq!(set.subset(30, 5).expect("again"), a);
    assert_ne!(id_list(&set.subset(30, 6).expect("other seed")), ids_a);
    let msg = set.subset(101, 0).err().map(|e| e.to_string()).unwrap_or_default();
    assert_eq!(msg, "subset: asked for 101 examples but the set has only 100");
}

#[test]
fn holdout_splits_exactly_and_disjointly() {
    let set = ids(50);
    let (train, valid) = set.holdout(12, 9).expect("12 < 50");
    assert_eq!((train.len(), valid.len()), (38, 12));
    let mut all = id_list(&train);
    all.extend(id_list(&valid));
    all.sort_unstable();
    assert_eq!(all, (0..50).collect::<Vec<_>>());
    assert_eq!(set.holdout(12, 9).expect("again").1, valid);
    assert!(set.holdout(50, 9).is_err());
    assert_eq!(set.holdout(0, 9).expect("empty valid").0.len(), 50);
}

#[test]
fn concat_appends_and_checks_sizes() {
    let (a, b) = (ids(3), ids(2));
    let c = a.concat(&b).expect("same size");
    assert_eq!(id_list(&c), vec![0, 1, 2, 0, 1]);
    assert_eq!(c.labels, vec![0, 1, 2, 0, 1]);
    let mut other = ids(1);
    other.rows = 1;
    other.cols = 9;
    assert!(a.concat(&other).is_err());
}

#[test]
fn permute_pixels_applies_one_permutation_to_every_image() {
    let mut set = ImageSet::from_split(&bundled().train).select(&[0, 1, 2]);
    let before = set.clone();
    set.permute_pixels(17);
    let perm = permutation(784, 17);
    for i in 0..3 {
        let (old, new) = (before.image(i).unwrap_or_default(), set.image(i).unwrap_or_default());
        assert!((0..784).all(|j| new[j] == old[perm[j]]));
    }
    assert_ne!(set.features, before.features);
    let mut again = before.clone();
    again.permute_pixels(17);
    assert_eq!(again, set);
}

#[test]
fn rotate_fraction_rotates_exactly_that_many() {
    let mut set = ImageSet::from_split(&bundled().test).select(&(0..40).collect::<Vec<_>>());
    let before = set.clone();
    let flags = set.rotate_fraction(30.0, 0.3, 4).expect("valid fraction");
    assert_eq!(flags.iter().filter(|&&f| f).count(), 12); // round(0.3 * 40)
    for (i, &rotated) in flags.iter().enumerate() {
        let (old, new) = (before.image(i).unwrap_or_default(), set.image(i).unwrap_or_default());
        if rotated {
            assert_eq!(new, rotate_image(old, 28, 28, 30.0).as_slice());
            assert_ne!(new, old);
        } else {
            assert_eq!(new, old);
        }
    }
    let mut same = before.clone();
    assert_eq!(same.rotate_fraction(30.0, 0.3, 4).expect("valid"), flags);
    assert!(same.rotate_fraction(30.0, 1.5, 4).is_err());
}

#[test]
fn rotate_all_by_quarter_turns_round_trips() {
    let mut set = ImageSet::from_split(&bundled().train).select(&(0..64).collect::<Vec<_>>());
    let before = set.clone();
    set.rotate(90.0);
    assert_ne!(set.features, before.features);
    assert_eq!(
        set.image(5),
        Some(rotate_image(before.image(5).unwrap_or_default(), 28, 28, 90.0).as_slice())
    );
    set.rotate(-90.0);
    assert_eq!(set, before);
}

#[test]
fn pad_centres_each_image_with_zeros() {
    let mut set = ids(2);
    set.pad(5).unwrap();
    assert_eq!((set.rows, set.cols, set.dim()), (5, 5, 25));
    // 3×3 inside 5×5: pixel (r, c) moves to (r + 1, c + 1); the border is zero.
    let img1 = set.image(1).unwrap();
    assert_eq!(img1[6], 1.0, "old pixel (0, 0): the id");
    assert_eq!(img1[12], 1.0, "old pixel (1, 1): the centre");
    assert_eq!(img1.iter().filter(|&&v| v != 0.0).count(), 2);
    assert!(set.pad(4).is_err(), "cannot shrink");
}

/// Hsu et al.'s constants are MNIST's, diluted by the zero border: the mean over 32×32 is
/// 784/1024 of the 28×28 mean.
#[test]
fn hsu_mean_is_the_padded_mnist_mean() {
    let mut set = ImageSet::from_split(&bundled().train);
    let mean28 = set.features.iter().map(|&v| f64::from(v)).sum::<f64>() / set.features.len() as f64;
    set.pad(32).unwrap();
    let mean32 = set.features.iter().map(|&v| f64::from(v)).sum::<f64>() / set.features.len() as f64;
    assert!((mean32 - mean28 * 784.0 / 1024.0).abs() < 1e-9);
    assert!((mean32 - f64::from(crate::HSU_MEAN)).abs() < 0.002, "{mean32}");
}
