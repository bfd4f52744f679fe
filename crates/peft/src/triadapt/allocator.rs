//! The rank allocator: importance scores and growth with dynamic thresholds (peft.md §3.3–3.4,
//! the source's `RankAllocator` / `update_and_increase`).

use super::config::{RankGrowth, TriAdaptConfig};
use super::inspect::layers;
use super::reparam::{GrowthPlan, with_growth_plan};
use crate::PeftError;
use burn::module::Module;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

const METHOD: &str = "TriAdaptLoRA";

/// State of the allocator. It is serde-serializable: save it with the checkpoint to resume
/// (`total_rank` is also recomputable from [`rank_pattern`](super::rank_pattern)).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RankAllocator {
    /// Ranks added per growth event ([`TriAdaptConfig::increment`]).
    pub increment: usize,
    pub target_total_rank: usize,
    /// Sum of the current ranks over all adapted layers.
    pub total_rank: usize,
    pub init_warmup: usize,
    pub incre_interval: usize,
    pub total_step: usize,
    pub rank_growth: RankGrowth,
    pub init_std: f64,
    /// `v_prev` per module path: `||C||_F / n_increments` at the previous scoring.
    pub v_prev: BTreeMap<String, f64>,
}

/// Number of layers allowed to grow (before ties): linear `int(remaining · m)`, exponential
/// `int(exp(m · ln(remaining)))`, clamped to `[1, n_layers]`. `remaining = target − total ≥ 1`,
/// `m = (step − warmup) / (total_step − warmup)`.
pub fn schedule_count(growth: RankGrowth, remaining: usize, m: f64, n_layers: usize) -> usize {
    let n = match growth {
        RankGrowth::Linear => (remaining as f64 * m).trunc(),
        RankGrowth::Exponential => (m * (remaining as f64).ln()).exp().trunc(),
    };
    (n.max(0.0) as usize).clamp(1, n_layers.max(1))
}

/// The layers whose score is at least the `n`-th largest (ties can select more than `n`).
pub fn select_by_threshold(scores: &BTreeMap<String, f64>, n: usize) -> Vec<String> {
    let mut sorted: Vec<f64> = scores.values().copied().collect();
    sorted.sort_by(|x, y| y.total_cmp(x));
    let Some(&threshold) = sorted.get(n.saturating_sub(1).min(sorted.len().saturating_sub(1))) else {
        return Vec::new();
    };
    scores
        .iter()
        .filter(|(_, s)| **s >= threshold)
        .map(|(m, _)| m.clone())
        .collect()
}

impl RankAllocator {
    /// Start allocating for `model` (adapters attached). Errors without `total_step`, with
    /// `total_step <= init_warmup`, `incre_interval == 0`, a zero increment or no adapters.
    /// Scores once (the source's `compute_score` at init), so `v_prev` is the current value.
    pub fn new<M: Module>(config: &TriAdaptConfig, model: &M) -> Result<Self, PeftError> {
        let error = |key, value: String, reason: &str| PeftError::Config {
            method: METHOD,
            key,
            value,
            reason: reason.into(),
        };
        let total_step = config
            .total_step
            .ok_or_else(|| error("total_step", "None".into(), "rank growth needs total_step"))?;
        if total_step <= config.init_warmup {
            return Err(error("total_step", total_step.to_string(), "must exceed init_warmup"));
        }
        if config.incre_interval == 0 || config.increment() == 0 {
            return Err(error(
                "incre_interval",
                config.incre_interval.to_string(),
                "interval and increment must be at least 1",
            ));
        }
        let layers = layers(model);
        if layers.is_empty() {
            return Err(error(
                "target_modules",
                "-".into(),
                "the model has no TriAdaptLoRA adapter",
            ));
        }
        let mut allocator = Self {
            increment: config.increment(),
            target_total_rank: config.target_total_rank.unwrap_or(config.reference_rank * layers.len()),
            total_rank: layers.values().map(|l| l.rank()).sum(),
            init_warmup: config.init_warmup,
            incre_interval: config.incre_interval,
            total_step,
            rank_growth: config.rank_growth,
            init_std: config.init_std,
            v_prev: BTreeMap::new(),
        };
        allocator.scores(model);
        Ok(allocator)
    }

    /// Importance per module: `v = ||C||_F / n_increments`, `score = v − v_prev`, then
    /// `v_prev ← v` (so calling it changes the state).
    pub fn scores<M: Module>(&mut self, model: &M) -> BTreeMap<String, f64> {
        layers(model)
            .into_iter()
            .map(|(module, layer)| {
                let v = layer.c_norm() / layer.a.len() as f64;
                let prev = self.v_prev.insert(module.clone(), v).unwrap_or(0.0);
                (module, v - prev)
            })
            .collect()
    }

    /// Whether `step` is an allocation step: `total_rank < target`, `step > init_warmup` and
    /// `step % incre_interval == 0`.
    pub fn is_allocation_step(&self, step: usize) -> bool {
        self.total_rank < self.target_total_rank && step > self.init_warmup && step.is_multiple_of(self.incre_interval)
    }

    /// The source's `update_and_increase`: at an allocation step, score every layer, compute `n`
    /// ([`schedule_count`]), and grow every layer whose score is at least the `n`-th largest by
    /// `increment` ranks. Call after the optimizer step. Returns the grown module paths.
    pub fn grow<M: Module>(&mut self, model: M, step: usize) -> (M, Vec<String>) {
        if !self.is_allocation_step(step) {
            return (model, Vec::new());
        }
        let blocks = layers(&model);
        let scores = self.scores(&model);
        let m = (step - self.init_warmup) as f64 / (self.total_step - self.init_warmup) as f64;
        let remaining = self.target_total_rank - self.total_rank;
        let n = schedule_count(self.rank_growth, remaining, m, scores.len());
        let grown = select_by_threshold(&scores, n);
        let by_first_a: HashMap<_, _> = grown
            .iter()
            .filter_map(|module| blocks[module].first_a.map(|id| (id, self.increment)))
            .collect();
        let plan = GrowthPlan {
            by_first_a,
            init_std: self.init_std,
        };
        let model = with_growth_plan(model, plan);
        self.total_rank += self.increment * grown.len();
        (model, grown)
    }
}

/// Free-function form of [`RankAllocator::grow`].
pub fn grow<M: Module>(model: M, step: usize, allocator: &mut RankAllocator) -> (M, Vec<String>) {
    allocator.grow(model, step)
}
