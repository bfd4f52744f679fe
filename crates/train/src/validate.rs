//! Value checks serde cannot express. Each failure names the dotted key and what was expected.

use crate::config::{OptimizerKind, RunConfig};

/// `Err((key, what was expected))` for the first invalid value.
pub fn validate(c: &RunConfig) -> Result<(), (String, String)> {
    let fail = |key: &str, msg: String| Err((key.to_string(), msg));
    if c.train.epochs == 0 {
        return fail("train.epochs", "must be at least 1".into());
    }
    if c.train.batch_size == 0 || c.train.eval_batch_size == 0 {
        return fail("train.batch_size", "batch sizes must be at least 1".into());
    }
    if c.train.keep_checkpoints == 0 {
        return fail(
            "train.keep_checkpoints",
            "must be at least 1 (resume needs a checkpoint)".into(),
        );
    }
    let o = &c.optimizer;
    if !(o.lr.is_finite() && o.lr > 0.0 && o.lr <= 1.0) {
        return fail(
            "optimizer.lr",
            format!("expected a learning rate in (0, 1], got {}", o.lr),
        );
    }
    if !(0.0..1.0).contains(&o.beta1) || !(0.0..1.0).contains(&o.beta2) {
        return fail("optimizer.beta1", "betas must be in [0, 1)".into());
    }
    if !(o.eps > 0.0) {
        return fail("optimizer.eps", format!("must be positive, got {}", o.eps));
    }
    if !(o.weight_decay >= 0.0 && o.weight_decay.is_finite()) {
        return fail(
            "optimizer.weight_decay",
            format!("must be >= 0, got {}", o.weight_decay),
        );
    }
    if !(0.0..1.0).contains(&o.momentum) {
        return fail("optimizer.momentum", format!("must be in [0, 1), got {}", o.momentum));
    }
    if o.cautious_weight_decay && o.kind != OptimizerKind::Adamw {
        return fail(
            "optimizer.cautious_weight_decay",
            "only applies to kind = \"adamw\"".into(),
        );
    }
    if let Some(n) = o.grad_clip_norm
        && !(n > 0.0 && n.is_finite())
    {
        return fail("optimizer.grad_clip_norm", format!("must be positive, got {n}"));
    }
    let s = &c.schedule;
    if !(s.min_lr >= 0.0 && s.min_lr <= o.lr) {
        return fail(
            "schedule.min_lr",
            format!("must be in [0, optimizer.lr = {}], got {}", o.lr, s.min_lr),
        );
    }
    if !(s.warmup_start_factor > 0.0 && s.warmup_start_factor <= 1.0) {
        return fail("schedule.warmup_start_factor", "must be in (0, 1]".into());
    }
    let d = &c.data;
    if !(0.0..=1.0).contains(&d.rotate_fraction) {
        return fail(
            "data.rotate_fraction",
            format!("must be in [0, 1], got {}", d.rotate_fraction),
        );
    }
    if let Some(r) = d.rotate_degrees
        && !r.is_finite()
    {
        return fail("data.rotate_degrees", "must be a finite angle in degrees".into());
    }
    if let Some(classes) = &d.classes
        && (classes.is_empty() || classes.iter().any(|&k| k >= 10))
    {
        return fail("data.classes", "expected a non-empty list of labels 0-9".into());
    }
    if d.valid_size == 0 {
        return fail(
            "data.valid_size",
            "must be at least 1 (validation drives checkpoints and early stopping)".into(),
        );
    }
    c.model.validate().map_err(|e| match e {
        plasticity_models::ModelError::Invalid { key, message } => (format!("model.{key}"), message),
    })?;
    crate::device::parse_device(&c.device).map_err(|e| ("device".to_string(), e.to_string()))?;
    Ok(())
}
