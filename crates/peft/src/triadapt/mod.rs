//! TriAdaptLoRA (arXiv 2501.08008; code from one public source file), peft.md §3: a LoRA whose
//! middle matrix C grows by triangular blocks, with rank growth by dynamic thresholds.
//!
//! Use: `config.apply(model)` attaches rank `init_rank` adapters; each step add
//! `orth_reg_weight · orthogonality_penalty(&model)` to the loss, step the optimizer, then call
//! `allocator.grow(model, step)` ([`RankAllocator`]). New blocks are new parameters, so a
//! `ModuleOptimizer` starts them with fresh state. To resume, save [`rank_pattern`] (and the
//! allocator, which is serde) with the checkpoint and rebuild with
//! [`TriAdaptConfig::apply_with_pattern`] before loading the record. Merge with
//! `Module::materialize()`; [`unmerge_triadapt`] undoes it. Save adapters only with
//! `into_record_group(ParamGroup::from_predicate(".triadapt."))`.
//!
//! Paths: `<module>.weight.triadapt.{a,b,c_row,c_col}.<t>`. With Burn's `Learner`, grow inside an
//! overridden `TrainStep::optimize` after `optim.step` (burn-0.22.md §11.5). Note: C starts at 0
//! and Adam's first steps move each entry by ≈ lr, so early on every rank-1 C has norm ≈ 2·lr·steps
//! in every layer: early growth events see near-ties, and ties grow together (as in the source).
//! Tests: numpy reference checks in `tests.rs` (unit), training dynamics in `tests/triadapt.rs`.

mod allocator;
mod config;
mod inspect;
mod method;
mod reparam;
#[cfg(test)]
mod tests;

pub use allocator::{RankAllocator, grow, schedule_count, select_by_threshold};
pub use config::{RankGrowth, TriAdaptConfig};
pub use inspect::{LayerBlocks, RankPattern, layers, orthogonality_penalty, rank_pattern};
pub use method::{GrowthState, RANK_PATTERN_FILE, TriAdaptMethod};
pub use reparam::{TriAdapt, assemble, unmerge_triadapt};

use crate::PeftError;
use crate::adapter::{AdapterFactory, attach};
use crate::target::{Selection, select_targets};
use burn::module::Module;
use burn::tensor::Device;
use std::collections::BTreeMap;

const METHOD: &str = "TriAdaptLoRA";

impl TriAdaptConfig {
    /// Freeze `model` and attach a rank-`init_rank` TriAdaptLoRA adapter to each selected weight.
    pub fn apply<M: Module>(&self, model: M) -> Result<M, PeftError> {
        let selection = self.check(&model)?;
        Ok(attach(model, &selection, self.factory(BTreeMap::new())))
    }

    /// Like [`apply`](Self::apply), but every adapter gets the increment sizes of `pattern`
    /// (from [`rank_pattern`]; A, B random and C zero until a record is loaded). The pattern must
    /// name exactly the selected modules.
    pub fn apply_with_pattern<M: Module>(&self, model: M, pattern: &RankPattern) -> Result<M, PeftError> {
        let selection = self.check(&model)?;
        let mut selected = selection.modules.clone();
        selected.sort();
        let named: Vec<String> = pattern.keys().cloned().collect();
        let bad_size = pattern.values().any(|s| s.is_empty() || s.contains(&0));
        if selected != named || bad_size {
            return Err(PeftError::Config {
                method: METHOD,
                key: "rank_pattern",
                value: format!("{pattern:?}"),
                reason: format!("must give non-empty, nonzero sizes for exactly the selected modules {selected:?}"),
            });
        }
        Ok(attach(model, &selection, self.factory(pattern.clone())))
    }

    /// The checks of [`apply`](Self::apply), returning the selection.
    pub fn check<M: Module>(&self, model: &M) -> Result<Selection, PeftError> {
        PeftError::check_positive(
            METHOD,
            &[
                ("reference_rank", self.reference_rank),
                ("init_rank", self.init_rank),
                ("incre_interval", self.incre_interval),
                ("incre_rank_num", self.increment()),
            ],
        )?;
        for (key, value) in [
            ("alpha", self.alpha),
            ("init_std", self.init_std),
            ("orth_reg_weight", self.orth_reg_weight),
        ] {
            if !value.is_finite() || (key != "alpha" && value < 0.0) {
                return Err(PeftError::Config {
                    method: METHOD,
                    key,
                    value: value.to_string(),
                    reason: "must be finite (and >= 0 unless alpha)".into(),
                });
            }
        }
        select_targets(model, METHOD, &self.target_modules, self.exclude_modules.as_ref(), true)
    }

    fn factory(&self, pattern: RankPattern) -> TriAdaptFactory {
        TriAdaptFactory {
            pattern,
            init_rank: self.init_rank,
            scaling: self.scaling(),
            std: self.init_std,
        }
    }
}

struct TriAdaptFactory {
    pattern: RankPattern,
    init_rank: usize,
    scaling: f64,
    std: f64,
}

impl AdapterFactory for TriAdaptFactory {
    type Reparam = TriAdapt;
    fn create(&mut self, path: &str, [d_in, d_out]: [usize; 2], device: &Device) -> TriAdapt {
        let module = path
            .strip_suffix(".weight")
            .unwrap_or(if path == "weight" { "" } else { path });
        let sizes = self
            .pattern
            .get(module)
            .cloned()
            .unwrap_or_else(|| vec![self.init_rank]);
        TriAdapt::new(d_in, d_out, &sizes, self.scaling, self.std, device)
    }
}
