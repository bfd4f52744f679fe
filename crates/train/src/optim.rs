//! The learning-rate schedule, built from Burn's schedulers, and the run's optimizer
//! (`plasticity_core::optim`), with its no-decay group: biases, normalisation parameters and
//! what methods mark as not decayed.

use crate::config::{ScheduleConfig, ScheduleKind};
use crate::error::{Result, TrainError};
use burn::lr_scheduler::LrSchedulerConfig;
use burn::lr_scheduler::cosine::CosineAnnealingLrSchedulerConfig;
use burn::lr_scheduler::linear::LinearLrSchedulerConfig;
use burn::lr_scheduler::module_lr_scheduler::ModuleLrScheduler;
use burn::lr_scheduler::sequential::SequentialLrSchedulerConfig;
use burn::module::{Module, ParamGroup};
use plasticity_core::optim::{NO_DECAY_PATTERN, Optimizer, OptimizerConfig};
use plasticity_core::{Method, ParamInfo, PlasticModel, param_infos};

/// The optimizer `config` describes for `module` (the trained module: model and method
/// modules). `host`: a CPU backend, where our optimizers update in host memory.
pub fn build_optimizer<M: PlasticModel, T: Module>(
    config: &OptimizerConfig,
    module: &T,
    methods: &[Box<dyn Method<M>>],
    host: bool,
    device: &burn::tensor::Device,
) -> Result<Optimizer> {
    let pattern =
        ParamGroup::from_regex(NO_DECAY_PATTERN).map_err(|e| TrainError::config("optimizer", format!("{e:?}")))?;
    let no_decay = |p: &ParamInfo| pattern.matches(&p.id, Some(&p.path)) || methods.iter().any(|m| m.no_decay(p));
    let ids = param_infos(module).into_iter().filter(no_decay).map(|p| p.id).collect();
    let needs = methods.iter().map(|m| (m.name(), m.optimizer_needs()));
    let mut per_element = false;
    for (name, need) in needs {
        per_element |= need.per_element_steps;
        if need.state && config.common().implementation == plasticity_core::optim::Implementation::Burn {
            return Err(TrainError::config(
                "optimizer.implementation",
                format!(
                    "the method `{name}` changes the optimizer's state, which Burn's optimizers keep private; \
                     use implementation = \"plasticity\" (the default)"
                ),
            ));
        }
    }
    Ok(Optimizer::build(config, ids, host, device).with_per_element_steps(per_element))
}

/// The LR schedule over `total_steps` optimizer steps, with optional linear warmup.
pub fn build_schedule(s: &ScheduleConfig, lr: f64, total_steps: usize) -> Result<ModuleLrScheduler> {
    let bad = |e: String| TrainError::config("schedule", e);
    let decay_steps = total_steps.saturating_sub(s.warmup_steps).max(1);
    let main = match s.kind {
        ScheduleKind::Constant => LrSchedulerConfig::Constant(lr),
        ScheduleKind::Cosine => {
            LrSchedulerConfig::Cosine(CosineAnnealingLrSchedulerConfig::new(lr, decay_steps).with_min_lr(s.min_lr))
        }
        ScheduleKind::Linear => LrSchedulerConfig::Linear(LinearLrSchedulerConfig::new(lr, s.min_lr, decay_steps)),
    };
    if s.warmup_steps == 0 {
        return SequentialLrSchedulerConfig::new(vec![main], vec![]).init().map_err(bad);
    }
    let warmup = LrSchedulerConfig::Linear(LinearLrSchedulerConfig::new(
        lr * s.warmup_start_factor,
        lr,
        s.warmup_steps,
    ));
    SequentialLrSchedulerConfig::new(vec![warmup, main], vec![s.warmup_steps])
        .init()
        .map_err(bad)
}
