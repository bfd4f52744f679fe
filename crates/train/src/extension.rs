//! Hooks the method crates use without forking the loop: loss penalties (EWC, orthogonality
//! regularisers) and per-step rules run around the optimizer step (pruning masks, rank growth,
//! unit resets). A rule keeps its state in the model's own modules, so checkpoints record it, or
//! returns it from [`StepRule::state`] (JSON written beside each checkpoint as
//! `rules-<epoch>.json`, handed back to [`StepRule::restore`] on `--resume`).

use burn::optim::GradientsParams;
use burn::tensor::Tensor;

/// A term added to the training loss: `loss = task_loss + Σ penalty(model)`.
pub trait Penalty<M>: Send + Sync {
    /// Short name for logs.
    fn name(&self) -> &str;
    /// A scalar `[1]` tensor, differentiable with respect to the model's parameters.
    fn penalty(&self, model: &M) -> Tensor<1>;
}

/// Code run at every optimizer step. `step` counts optimizer steps taken before this one.
pub trait StepRule<M>: Send + Sync {
    fn name(&self) -> &str;
    /// Sees the (clipped) gradients before the optimizer consumes them.
    fn before_step(&self, _model: &M, _grads: &GradientsParams, _step: u64) {}
    /// Changes the model after the optimizer step (for example re-applies a pruning mask).
    fn after_step(&self, model: M, _step: u64) -> M {
        model
    }
    /// State kept outside the model, saved with every checkpoint under the rule's name.
    fn state(&self) -> Option<serde_json::Value> {
        None
    }
    /// Takes back what [`state`](Self::state) returned, when a run resumes from a checkpoint.
    /// An error (a message) stops the resume.
    fn restore(&self, _state: &serde_json::Value) -> Result<(), String> {
        Ok(())
    }
}

/// The states of `rules` by name (the content of `rules-<epoch>.json`).
pub fn rule_states<M>(rules: &[std::sync::Arc<dyn StepRule<M>>]) -> serde_json::Map<String, serde_json::Value> {
    rules
        .iter()
        .filter_map(|r| r.state().map(|s| (r.name().to_string(), s)))
        .collect()
}

/// The penalties, rules and optimizer a method adds to a run.
pub struct Extensions<M> {
    pub penalties: Vec<std::sync::Arc<dyn Penalty<M>>>,
    pub rules: Vec<std::sync::Arc<dyn StepRule<M>>>,
    /// Replaces the optimizer built from `[optimizer]` (for a custom `burn::optim::Optimizer`
    /// such as CLASSP: `let optim: ModuleOptimizer = MyOptimizer { .. }.into();`). The LR
    /// schedule still comes from the config.
    pub optimizer: Option<burn::optim::ModuleOptimizer>,
}

impl<M> Default for Extensions<M> {
    fn default() -> Self {
        Self {
            penalties: Vec::new(),
            rules: Vec::new(),
            optimizer: None,
        }
    }
}
