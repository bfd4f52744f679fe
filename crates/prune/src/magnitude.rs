//! Magnitude pruning and GraNet's zero-cost neuroregeneration on host vectors, with the
//! official code's comparisons (spec reparam-prune.md §4.2-4.3).

use std::cmp::Ordering;

/// Indices sorted by `key` descending, ties by the lower index first (PyTorch's sort leaves
/// them unspecified).
fn descending(values: &[f32], key: impl Fn(f32) -> f32) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..values.len()).collect();
    idx.sort_by(|&a, &b| key(values[b]).partial_cmp(&key(values[a])).unwrap_or(Ordering::Equal).then(a.cmp(&b)));
    idx
}

/// Global magnitude pruning to sparsity `s` over `layers` (each a weight, flattened): keep
/// `⌊N·(1 − s)⌋` as the number of scores at or above the cut-off `a` (the keep-th largest
/// `|w|` over all layers), then keep exactly the weights with `|w| > a`, strictly, as GraNet's
/// CIFAR code (so the cut-off element and its ties are dropped too: at most keep − 1 remain).
/// Already-zero weights take part (their score is 0). Returns one mask per layer.
pub fn global_magnitude(layers: &[&[f32]], sparsity: f64) -> Vec<Vec<bool>> {
    let all: Vec<f32> = layers.iter().flat_map(|l| l.iter().map(|w| w.abs())).collect();
    let keep = (all.len() as f64 * (1.0 - sparsity)) as usize;
    let cut = cutoff(&all, keep);
    layers.iter().map(|l| l.iter().map(|w| cut.is_some_and(|a| w.abs() > a)).collect()).collect()
}

/// [`global_magnitude`] on each layer alone (the per-layer option: every layer at sparsity `s`).
pub fn layerwise_magnitude(layers: &[&[f32]], sparsity: f64) -> Vec<Vec<bool>> {
    layers.iter().map(|l| global_magnitude(&[l], sparsity).remove(0)).collect()
}

/// The keep-th largest score (`None` when nothing is kept: everything is pruned).
fn cutoff(scores: &[f32], keep: usize) -> Option<f32> {
    if keep == 0 {
        return None;
    }
    let mut sorted = scores.to_vec();
    sorted.sort_by(|a, b| b.partial_cmp(a).unwrap_or(Ordering::Equal));
    Some(sorted[keep.min(sorted.len()) - 1])
}

/// The exact number of weights [`global_magnitude`] keeps of `weights` (all layers' weights,
/// flattened): the `|w|` strictly above the cut-off. Tests and reports assert this count.
pub fn kept_by_formula(weights: &[f32], sparsity: f64) -> usize {
    let scores: Vec<f32> = weights.iter().map(|w| w.abs()).collect();
    let keep = (scores.len() as f64 * (1.0 - sparsity)) as usize;
    cutoff(&scores, keep).map_or(0, |a| scores.iter().filter(|&&s| s > a).count())
}

/// GraNet's `magnitude_death` (l.584-592) on one layer: with `nnz` active and `z` inactive
/// weights, `k = z + ⌈r·nnz⌉`; the k-th smallest `|w|` is the threshold and the new mask keeps
/// `|w| > threshold`. `weight` holds zeros where `mask` is false.
pub fn magnitude_death(mask: &[bool], weight: &[f32], fraction: f64) -> Vec<bool> {
    let nnz = mask.iter().filter(|&&m| m).count();
    let k = (mask.len() - nnz) + (fraction * nnz as f64).ceil() as usize;
    if k == 0 || nnz == 0 {
        return mask.to_vec();
    }
    let mut sorted: Vec<f32> = weight.iter().map(|w| w.abs()).collect();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
    let threshold = sorted[k.min(sorted.len()) - 1];
    mask.iter().zip(weight).map(|(&m, w)| m && w.abs() > threshold).collect()
}

/// GraNet's `gradient_growth` (l.617-624) on one layer: the `count` inactive positions with the
/// largest `|gradient|` (the dense gradient of the step's minibatch) become active; candidates
/// include the weights dropped in the same event. Ties: the lower index first.
pub fn gradient_growth(mask: &[bool], grad: &[f32], count: usize) -> Vec<bool> {
    let masked: Vec<f32> = grad.iter().zip(mask).map(|(g, &m)| if m { 0.0 } else { *g }).collect();
    let mut out = mask.to_vec();
    for i in descending(&masked, f32::abs).into_iter().filter(|&i| !mask[i]).take(count) {
        out[i] = true;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cutoff_is_strict_so_ties_at_it_are_dropped() {
        // 10 weights, 50 %: keep = 5, the 5th largest |w| is 0.5, kept: |w| > 0.5 → 4 weights.
        let w = [0.9f32, -0.8, 0.7, 0.6, 0.5, -0.5, 0.4, 0.3, 0.2, 0.1];
        let m = global_magnitude(&[&w], 0.5);
        assert_eq!(m[0].iter().filter(|&&k| k).count(), 4);
        assert_eq!(kept_by_formula(&w, 0.5), 4);
        // Global across layers (N = 8, keep 4, cut-off 1.0): the big layer's weights win.
        let (a, b) = ([1.0f32, 2.0, 3.0, 4.0], [0.1f32, 0.2, 0.3, 0.4]);
        let m = global_magnitude(&[&a, &b], 0.5);
        assert_eq!(m, vec![vec![false, true, true, true], vec![false; 4]]);
        // Per layer (keep 2 of 4, cut-off the 2nd largest): one weight each.
        let m = layerwise_magnitude(&[&a, &b], 0.5);
        assert_eq!(m, vec![vec![false, false, false, true], vec![false, false, false, true]]);
    }

    #[test]
    fn death_removes_the_ceiling_of_r_nnz_and_growth_regrows_as_many() {
        // 8 weights, 6 active (2 zeros); r = 0.3 → ⌈1.8⌉ = 2 removed: k = 4, threshold = the 4th
        // smallest |w| = 0.2 → keeps |w| > 0.2.
        let mask = [true, true, true, true, true, true, false, false];
        let w = [0.1f32, -0.2, 0.3, 0.4, -0.5, 0.6, 0.0, 0.0];
        let after = magnitude_death(&mask, &w, 0.3);
        assert_eq!(after, [false, false, true, true, true, true, false, false]);
        let removed = 6 - after.iter().filter(|&&m| m).count();
        assert_eq!(removed, 2);
        // Regrow 2 by |grad| among the inactive, the two just dropped included.
        let g = [0.9f32, 0.0, 5.0, 5.0, 5.0, 5.0, -0.3, 0.95];
        let grown = gradient_growth(&after, &g, removed);
        assert_eq!(grown, [true, false, true, true, true, true, false, true]);
        assert_eq!(grown.iter().filter(|&&m| m).count(), 6, "as many regrown as dropped");
    }
}
