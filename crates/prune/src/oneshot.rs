//! One-shot magnitude pruning with `torch.nn.utils.prune`'s semantics (spec reparam-prune.md
//! §5.1), the base of the pruning baselines: `amount` is a count or a fraction, a fraction is
//! rounded as Python's `round` (half to even), and pruning an already pruned tensor takes the
//! amount from its **remaining** entries and multiplies the masks.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// `amount`: an absolute number of entries, or a fraction of the (remaining) entries.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Amount {
    Count(usize),
    Fraction(f64),
}

impl Amount {
    /// How many of `size` entries to prune: torch.prune's `_compute_nparams_toprune`
    /// (`round(amount · size)` for a fraction, the count itself), checked against `size`.
    pub fn count(self, size: usize) -> Result<usize, String> {
        match self {
            Amount::Count(k) if k <= size => Ok(k),
            Amount::Count(k) => Err(format!("amount = {k} is more than the {size} entries left to prune")),
            Amount::Fraction(f) if (0.0..=1.0).contains(&f) => Ok(round_half_even(f * size as f64) as usize),
            Amount::Fraction(f) => Err(format!("amount = {f} must be a fraction in [0, 1] or a count")),
        }
    }
}

/// Python's `round`: to the nearest integer, halves to the even one.
pub fn round_half_even(x: f64) -> f64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 && r % 2.0 != 0.0 { r - x.signum() } else { r }
}

/// `l1_unstructured` on one tensor (flattened) already masked by `mask`: the `k` remaining
/// entries with the smallest `|w|` are pruned (ties: the lower index first; `torch.topk` leaves
/// them unspecified); returns the new mask (the old one times the new).
pub fn l1_unstructured(weights: &[f32], mask: &[bool], amount: Amount) -> Result<Vec<bool>, String> {
    global_unstructured(&[weights], &[mask], amount).map(|mut m| m.remove(0))
}

/// `global_unstructured(…, L1Unstructured, amount)`: every tensor's remaining entries ranked
/// together by `|w|`, the `k` smallest pruned. Returns one mask per tensor.
pub fn global_unstructured(weights: &[&[f32]], masks: &[&[bool]], amount: Amount) -> Result<Vec<Vec<bool>>, String> {
    let remaining: Vec<(usize, usize)> = weights
        .iter()
        .zip(masks)
        .enumerate()
        .flat_map(|(l, (w, m))| (0..w.len()).filter(|&i| m[i]).map(move |i| (l, i)))
        .collect();
    let k = amount.count(remaining.len())?;
    let mut order = remaining.clone();
    order.sort_by(|&(la, ia), &(lb, ib)| {
        weights[la][ia].abs().partial_cmp(&weights[lb][ib].abs()).unwrap_or(Ordering::Equal).then((la, ia).cmp(&(lb, ib)))
    });
    let mut out: Vec<Vec<bool>> = masks.iter().map(|m| m.to_vec()).collect();
    for &(l, i) in order.iter().take(k) {
        out[l][i] = false;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_round_as_python_and_counts_are_checked() {
        assert_eq!(Amount::Fraction(0.5).count(5), Ok(2), "round(2.5) = 2");
        assert_eq!(Amount::Fraction(0.5).count(7), Ok(4), "round(3.5) = 4");
        assert_eq!(Amount::Fraction(0.3).count(10), Ok(3));
        assert_eq!(Amount::Count(4).count(10), Ok(4));
        assert!(Amount::Count(11).count(10).is_err());
        assert!(Amount::Fraction(1.5).count(10).is_err());
        assert_eq!(round_half_even(-2.5), -2.0);
    }

    #[test]
    fn pruning_again_takes_the_fraction_of_what_remains() {
        let w = [0.1f32, -0.9, 0.3, 0.7, -0.2, 0.5, 0.05, 0.8];
        let all = [true; 8];
        // 50 % of 8: the 4 smallest |w| (0.05, 0.1, 0.2, 0.3).
        let m = l1_unstructured(&w, &all, Amount::Fraction(0.5)).unwrap();
        assert_eq!(m, [false, true, false, true, false, true, false, true]);
        // 50 % again: of the 4 remaining (round(2.0) = 2): 0.5 and 0.7 go; 0.8 and 0.9 stay.
        let m = l1_unstructured(&w, &m, Amount::Fraction(0.5)).unwrap();
        assert_eq!(m, [false, true, false, false, false, false, false, true]);
        // Global: the two tensors ranked together.
        let (a, b) = ([1.0f32, 2.0], [0.5f32, 3.0]);
        let m = global_unstructured(&[&a, &b], &[&[true; 2], &[true; 2]], Amount::Count(2)).unwrap();
        assert_eq!(m, vec![vec![false, true], vec![false, true]]);
    }
}
