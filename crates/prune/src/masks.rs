//! Initial masks: all ones (a dense start) or random at per-layer densities, drawn from the
//! project's seeded host streams so they do not depend on the backend.

use plasticity_data::{SplitMix64, mix, permutation};

/// Bernoulli(`density`) per element (GraNet's `torch.rand(shape) < density`: the expected, not
/// the exact, count).
pub fn bernoulli(n: usize, density: f64, seed: u64) -> Vec<bool> {
    let mut rng = SplitMix64::new(seed);
    (0..n).map(|_| rng.next_f64() < density).collect()
}

/// Exactly `⌊density·n⌋` ones at random positions (RigL's exact counts).
pub fn exact(n: usize, density: f64, seed: u64) -> Vec<bool> {
    let ones = (density * n as f64) as usize;
    let mut mask = vec![false; n];
    for i in permutation(n, seed).into_iter().take(ones) {
        mask[i] = true;
    }
    mask
}

/// The seed of layer `l`'s initial mask.
pub fn layer_seed(seed: u64, l: usize) -> u64 {
    mix(mix(seed, 0x5052_554e), l as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_have_the_asked_density() {
        let m = exact(1000, 0.1, 3);
        assert_eq!(m.iter().filter(|&&x| x).count(), 100);
        let b = bernoulli(100_000, 0.2, 3);
        let d = b.iter().filter(|&&x| x).count() as f64 / 1e5;
        assert!((d - 0.2).abs() < 0.01, "{d}");
        assert_eq!(bernoulli(50, 0.5, 9), bernoulli(50, 0.5, 9), "seeded");
    }
}
