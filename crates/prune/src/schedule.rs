//! The cubic gradual-magnitude schedule (Zhu & Gupta), exactly as GraNet's code computes it
//! (spec reparam-prune.md §4.2; `CIFAR/sparselearning/core.py` l.367-381), and the cosine decay
//! of the regeneration fraction (§4.4).
//!
//! With `ΔT` the frequency, `k₀ = ⌊t₀/ΔT⌋`, `k_f = ⌊t_f/ΔT⌋`, `n = k_f − k₀`: an event happens at
//! optimizer step `t` (counted after the step, so the first is `t = 1`) when `t` is a multiple
//! of `ΔT` and `k₀ ≤ k = t/ΔT ≤ k_f − 1`; its target sparsity is
//! `s = (1 − dᵢ) + (dᵢ − d_f)·(1 − (1 − (k − k₀)/n)³)` with `dᵢ`, `d_f` the initial and final
//! densities. The last event is `k = k_f − 1`, so the final sparsity is
//! `s_f − (s_f − sᵢ)/n³`, marginally below `s_f` ([`GmpSchedule::final_sparsity`]).

/// The schedule, in optimizer steps.
#[derive(Clone, Debug, PartialEq)]
pub struct GmpSchedule {
    pub init_density: f64,
    pub final_density: f64,
    /// ΔT.
    pub frequency: u64,
    /// k₀ = ⌊t₀/ΔT⌋ and k_f = ⌊t_f/ΔT⌋.
    pub first: u64,
    pub last: u64,
}

impl GmpSchedule {
    /// From `t₀`, `t_f`, `ΔT` (steps) and the initial and final sparsities. Errors (key, what
    /// was expected) when no event would happen.
    pub fn new(start: u64, end: u64, frequency: u64, init_sparsity: f64, final_sparsity: f64) -> Result<Self, (String, String)> {
        if frequency == 0 {
            return Err(("prune.frequency".into(), "must be at least 1 step".into()));
        }
        let (first, last) = (start / frequency, end / frequency);
        if last <= first {
            return Err((
                "prune.end".into(),
                format!("⌊end/frequency⌋ = {last} must exceed ⌊start/frequency⌋ = {first}: no pruning event would happen"),
            ));
        }
        Ok(Self {
            init_density: 1.0 - init_sparsity,
            final_density: 1.0 - final_sparsity,
            frequency,
            first,
            last,
        })
    }

    /// n, the number of `ΔT` intervals (events: `k₀ ..= k_f − 1`, `n` of them; the first is
    /// skipped when `k₀ = 0`, step 0 being no step).
    pub fn intervals(&self) -> u64 {
        self.last - self.first
    }

    /// The target sparsity of the event at step `step` (counted after the step), if one.
    pub fn at(&self, step: u64) -> Option<f64> {
        if step == 0 || !step.is_multiple_of(self.frequency) {
            return None;
        }
        let k = step / self.frequency;
        (k >= self.first && k < self.last).then(|| self.level(k))
    }

    fn level(&self, k: u64) -> f64 {
        let decay = (1.0 - (k - self.first) as f64 / self.intervals() as f64).powi(3);
        (1.0 - self.init_density) + (self.init_density - self.final_density) * (1.0 - decay)
    }

    /// The sparsity of the last event (`k = k_f − 1`): what the formula reaches, not `s_f`.
    pub fn final_sparsity(&self) -> f64 {
        self.level(self.last - 1)
    }
}

/// GraNet's regeneration fraction at step `t` of `total` (`CosineDecay` around PyTorch's
/// `CosineAnnealingLR`, stepped every iteration): `r_t = η_min + (r₀ − η_min)·(1 + cos(π·t/T))/2`,
/// `η_min = 0.005`.
pub fn cosine_fraction(r0: f64, step: u64, total: u64, min: f64) -> f64 {
    let t = step.min(total) as f64 / total.max(1) as f64;
    min + (r0 - min) * (1.0 + (std::f64::consts::PI * t).cos()) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// t₀ = 0, t_f = 1000, ΔT = 100, 0 → 90 %: k₀ = 0, k_f = 10, n = 10; events at steps
    /// 100 … 900 (k = 1 … 9), s = 0.9·(1 − (1 − k/10)³).
    #[test]
    fn the_schedule_table_matches_the_formula_and_its_rounding() {
        let s = GmpSchedule::new(0, 1000, 100, 0.0, 0.9).unwrap();
        let events: Vec<(u64, f64)> = (1..=1200).filter_map(|t| s.at(t).map(|v| (t, v))).collect();
        let expected: Vec<(u64, f64)> = (1..=9).map(|k| (100 * k, 0.9 * (1.0 - (1.0 - k as f64 / 10.0).powi(3)))).collect();
        assert_eq!(events.len(), expected.len());
        for ((t, v), (te, ve)) in events.iter().zip(&expected) {
            assert_eq!(t, te);
            assert!((v - ve).abs() < 1e-15, "step {t}: {v} vs {ve}");
        }
        // The final sparsity the formula gives: s_f − (s_f − s_i)/n³ = 0.9 − 0.9/1000.
        assert!((s.final_sparsity() - (0.9 - 0.0009)).abs() < 1e-15);
        // Truncation: t₀ = 250, t_f = 1290, ΔT = 100 → k₀ = 2, k_f = 12 (n = 10), first event
        // at step 200 at sᵢ, last at 1100; from sᵢ = 0.5, d = 0.5 → 0.02.
        let s = GmpSchedule::new(250, 1290, 100, 0.5, 0.98).unwrap();
        assert_eq!(s.at(200), Some(0.5));
        assert_eq!(s.at(250), None);
        assert_eq!(s.at(1200), None);
        let k = 11.0;
        let last = 0.5 + 0.48 * (1.0 - (1.0 - (k - 2.0) / 10.0f64).powi(3));
        assert!((s.at(1100).unwrap() - last).abs() < 1e-15);
        assert_eq!(GmpSchedule::new(0, 99, 100, 0.0, 0.9).unwrap_err().0, "prune.end");
    }

    #[test]
    fn the_regeneration_fraction_decays_on_a_cosine() {
        assert!((cosine_fraction(0.5, 0, 1000, 0.005) - 0.5).abs() < 1e-15);
        assert!((cosine_fraction(0.5, 500, 1000, 0.005) - (0.005 + 0.495 / 2.0)).abs() < 1e-15);
        assert!((cosine_fraction(0.5, 1000, 1000, 0.005) - 0.005).abs() < 1e-15);
    }
}
