//! Burn's optimizers and LR schedulers, built from the config. Biases and normalisation
//! parameters get no weight decay unless `decay_bias_and_norm` is set (a second parameter
//! group with the same optimizer and zero decay).

use crate::config::{OptimizerConfig, OptimizerKind, ScheduleConfig, ScheduleKind};
use crate::error::{Result, TrainError};
use burn::lr_scheduler::LrSchedulerConfig;
use burn::lr_scheduler::cosine::CosineAnnealingLrSchedulerConfig;
use burn::lr_scheduler::linear::LinearLrSchedulerConfig;
use burn::lr_scheduler::module_lr_scheduler::ModuleLrScheduler;
use burn::lr_scheduler::sequential::SequentialLrSchedulerConfig;
use burn::module::ParamGroup;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{Adam, AdamConfig, AdamW, AdamWConfig, ModuleOptimizer, Optimizer, Sgd, SgdConfig};

/// Parameter paths that never get weight decay by default: biases and norm scales/shifts.
pub const NO_DECAY_PATTERN: &str = r"(^|.*\.)(bias|gamma|beta)$";

fn sgd(c: &OptimizerConfig, weight_decay: f32) -> Sgd {
    let momentum = (c.momentum > 0.0).then(|| {
        MomentumConfig::new()
            .with_momentum(c.momentum)
            .with_dampening(0.0)
            .with_nesterov(c.nesterov)
    });
    let decay = (weight_decay > 0.0).then(|| WeightDecayConfig::new(weight_decay));
    SgdConfig::new()
        .with_weight_decay(decay)
        .with_momentum(momentum)
        .build()
}

fn adam(c: &OptimizerConfig, weight_decay: f32) -> Adam {
    let decay = (weight_decay > 0.0).then(|| WeightDecayConfig::new(weight_decay));
    AdamConfig::new()
        .with_beta_1(c.beta1)
        .with_beta_2(c.beta2)
        .with_epsilon(c.eps)
        .with_weight_decay(decay)
        .build()
}

fn adamw(c: &OptimizerConfig, weight_decay: f32) -> AdamW {
    AdamWConfig::new()
        .with_beta_1(c.beta1)
        .with_beta_2(c.beta2)
        .with_epsilon(c.eps)
        .with_weight_decay(weight_decay)
        .with_cautious_weight_decay(c.cautious_weight_decay)
        .build()
}

/// `main` for every parameter, plus `no_decay` for biases and norm parameters when given.
fn grouped<O: Optimizer>(main: O, no_decay: Option<O>) -> Result<ModuleOptimizer> {
    let optim: ModuleOptimizer = main.into();
    let Some(no_decay) = no_decay else { return Ok(optim) };
    let group =
        ParamGroup::from_regex(NO_DECAY_PATTERN).map_err(|e| TrainError::config("optimizer", format!("{e:?}")))?;
    Ok(optim.with_group(group, no_decay, None))
}

/// The module optimizer, with a no-decay group for biases and norm parameters.
pub fn build_optimizer(c: &OptimizerConfig) -> Result<ModuleOptimizer> {
    let split = c.weight_decay > 0.0 && !c.decay_bias_and_norm;
    match c.kind {
        OptimizerKind::Sgd => grouped(sgd(c, c.weight_decay), split.then(|| sgd(c, 0.0))),
        OptimizerKind::Adam => grouped(adam(c, c.weight_decay), split.then(|| adam(c, 0.0))),
        OptimizerKind::Adamw => grouped(adamw(c, c.weight_decay), split.then(|| adamw(c, 0.0))),
    }
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
