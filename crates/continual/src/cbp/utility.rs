//! The generate-and-test bookkeeping of one hidden layer (gnt.py, class GnT, spec continual.md
//! §3.1), on host vectors: utilities, mean activations, ages and the fractional replacement
//! count, and which units to replace after a step.

use super::config::{CbpConfig, UtilityKind};
use plasticity_data::SplitMix64;

/// One layer's per-unit statistics of a step: `mean_h = mean(h)`, `mean_abs = mean|h|` over the
/// batch's rows (and a feature map's positions), `out_mag` and `in_mag` the mean `|w|` of each
/// unit's outgoing and incoming weights. `centered(f̂)` gives `mean|h − f̂|`.
pub struct StepStats<'a> {
    pub mean_h: &'a [f32],
    pub mean_abs: &'a [f32],
    pub out_mag: &'a [f32],
    pub in_mag: &'a [f32],
    pub centered: &'a dyn Fn(&[f32]) -> Vec<f32>,
}

/// gnt.py's state of one hidden layer.
#[derive(Clone, Debug, PartialEq)]
pub struct UnitState {
    /// `u`, the running utility (not bias-corrected).
    pub util: Vec<f32>,
    /// `f`, the running mean activation (not bias-corrected).
    pub mean_act: Vec<f32>,
    /// Steps since each unit was (re)initialised.
    pub ages: Vec<u64>,
    /// `c`, the fractional replacement count carried over.
    pub accumulated: f64,
}

impl UnitState {
    pub fn new(units: usize) -> Self {
        Self {
            util: vec![0.0; units],
            mean_act: vec![0.0; units],
            ages: vec![0; units],
            accumulated: 0.0,
        }
    }

    /// `1 − η^age` per unit.
    fn bias_correction(&self, eta: f64) -> Vec<f64> {
        self.ages.iter().map(|&a| 1.0 - eta.powf(a as f64)).collect()
    }

    /// `û = u / (1 − η^age)`.
    pub fn corrected_util(&self, eta: f64) -> Vec<f32> {
        self.util
            .iter()
            .zip(self.bias_correction(eta))
            .map(|(&u, bc)| if bc > 0.0 { (u as f64 / bc) as f32 } else { 0.0 })
            .collect()
    }

    /// One step (after the optimizer's): ages, mean activation and utility updated, then the
    /// units to replace, lowest `û` first among the eligible (`age > m`; ties: the lower index).
    /// Their utility, mean activation and age are reset here; the caller re-draws their weights.
    pub fn step(&mut self, s: &StepStats, config: &CbpConfig, rng: &mut SplitMix64) -> Vec<usize> {
        let eta = config.decay_rate;
        let n = self.util.len();
        self.ages.iter_mut().for_each(|a| *a += 1);
        let bc = self.bias_correction(eta);
        for i in 0..n {
            self.util[i] = (self.util[i] as f64 * eta) as f32;
            self.mean_act[i] = (eta * self.mean_act[i] as f64 + (1.0 - eta) * s.mean_h[i] as f64) as f32;
        }
        let f_hat: Vec<f32> = (0..n).map(|i| (self.mean_act[i] as f64 / bc[i]) as f32).collect();
        let new: Vec<f64> = match config.utility {
            UtilityKind::Contribution => (0..n).map(|i| s.out_mag[i] as f64 * s.mean_abs[i] as f64).collect(),
            UtilityKind::ZeroContribution => {
                let c = (s.centered)(&f_hat);
                (0..n).map(|i| s.out_mag[i] as f64 * c[i] as f64).collect()
            }
            UtilityKind::AdaptableContribution => {
                let c = (s.centered)(&f_hat);
                (0..n).map(|i| s.out_mag[i] as f64 * c[i] as f64 / s.in_mag[i] as f64).collect()
            }
            UtilityKind::Weight => s.out_mag.iter().map(|&m| m as f64).collect(),
            UtilityKind::Adaptation => s.in_mag.iter().map(|&m| 1.0 / m as f64).collect(),
            UtilityKind::Random => (0..n).map(|_| rng.next_f64()).collect(),
        };
        for (u, y) in self.util.iter_mut().zip(&new) {
            *u = (*u as f64 + (1.0 - eta) * y) as f32;
        }
        let eligible: Vec<usize> = (0..n).filter(|&i| self.ages[i] > config.maturity_threshold).collect();
        if eligible.is_empty() {
            return Vec::new();
        }
        let x = config.replacement_rate * eligible.len() as f64;
        let k = if config.accumulate {
            self.accumulated += x;
            let k = self.accumulated.floor();
            self.accumulated -= k;
            k as usize
        } else if x < 1.0 {
            usize::from(rng.next_f64() < x)
        } else {
            x.floor() as usize
        };
        if k == 0 {
            return Vec::new();
        }
        let u_hat = self.corrected_util(eta);
        let mut order = eligible;
        order.sort_by(|&a, &b| u_hat[a].total_cmp(&u_hat[b]).then(a.cmp(&b)));
        order.truncate(k);
        order.sort_unstable();
        for &i in &order {
            self.util[i] = 0.0;
            self.mean_act[i] = 0.0;
            self.ages[i] = 0;
        }
        order
    }
}
