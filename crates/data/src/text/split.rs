//! Seeded train / validation / test splits, stratified by label: each label's examples are
//! permuted (SplitMix64 streams of the seed) and cut by the fractions, so each split keeps the
//! label balance of the whole.

use crate::{mix, permutation};

/// Indices into the examples, per split, each in ascending order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Splits {
    pub train: Vec<usize>,
    pub valid: Vec<usize>,
    pub test: Vec<usize>,
}

/// Splits the examples with `labels` into `valid` and `test` fractions (the rest trains): per
/// label, `round(n·valid)` and `round(n·test)` examples.
pub fn stratified_splits(labels: &[u8], valid: f64, test: f64, seed: u64) -> Splits {
    let mut out = Splits { train: Vec::new(), valid: Vec::new(), test: Vec::new() };
    let mut classes: Vec<u8> = labels.to_vec();
    classes.sort_unstable();
    classes.dedup();
    for c in classes {
        let members: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == c).collect();
        let n = members.len();
        let order = permutation(n, mix(seed, c as u64));
        let (nv, nt) = (((n as f64) * valid).round() as usize, ((n as f64) * test).round() as usize);
        for (k, &p) in order.iter().enumerate() {
            let i = members[p];
            match k {
                k if k < nv => out.valid.push(i),
                k if k < nv + nt => out.test.push(i),
                _ => out.train.push(i),
            }
        }
    }
    out.train.sort_unstable();
    out.valid.sort_unstable();
    out.test.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_are_stratified_disjoint_and_seeded() {
        let labels: Vec<u8> = (0..1000).map(|i| u8::from(i % 4 == 0)).collect();
        let s = stratified_splits(&labels, 0.1, 0.2, 7);
        assert_eq!((s.valid.len(), s.test.len(), s.train.len()), (100, 200, 700));
        let positives = |v: &[usize]| v.iter().filter(|&&i| labels[i] == 1).count();
        assert_eq!((positives(&s.valid), positives(&s.test), positives(&s.train)), (25, 50, 175));
        let mut all: Vec<usize> = s.train.iter().chain(&s.valid).chain(&s.test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
        assert_eq!(stratified_splits(&labels, 0.1, 0.2, 7), s);
        assert_ne!(stratified_splits(&labels, 0.1, 0.2, 8), s);
    }
}
