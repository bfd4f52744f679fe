//! Value checks serde cannot express. Each failure names the dotted key and what was expected.

use crate::config::RunConfig;

/// `Err((key, what was expected))` for the first invalid value.
pub fn validate(c: &RunConfig) -> Result<(), (String, String)> {
    let fail = |key: &str, msg: String| Err((key.to_string(), msg));
    if c.train.epochs == 0 && c.init_from.is_none() {
        return fail("train.epochs", "must be at least 1 (0 only with init_from: the model it loads, evaluated)".into());
    }
    if c.train.batch_size == 0 || c.train.eval_batch_size == 0 {
        return fail("train.batch_size", "batch sizes must be at least 1".into());
    }
    if let Some(target) = c.train.stop_at_valid_accuracy
        && !(target > 0.0 && target <= 1.0)
    {
        return fail("train.stop_at_valid_accuracy", format!("expected an accuracy in (0, 1], got {target}"));
    }
    if c.train.keep_checkpoints == 0 {
        return fail(
            "train.keep_checkpoints",
            "must be at least 1 (resume needs a checkpoint)".into(),
        );
    }
    c.optimizer.validate()?;
    if let Some(ewc) = &c.ewc {
        ewc.validate()?;
    }
    if let Some(cbp) = &c.cbp {
        cbp.validate()?;
    }
    if let Some(sp) = &c.shrink_perturb {
        sp.validate()?;
    }
    if let Some(continual) = &c.continual {
        continual.validate()?;
    }
    if let Some(prune) = &c.prune {
        prune.validate()?;
        if c.cbp.is_some() {
            return fail(
                "prune",
                "[prune] and [cbp] together are refused: continual backprop re-draws the weights a mask keeps at zero, and no one has defined that combination yet".into(),
            );
        }
    }
    let lr = c.optimizer.lr();
    if lr > 1.0 {
        return fail("optimizer.lr", format!("expected a learning rate in (0, 1], got {lr}"));
    }
    let s = &c.schedule;
    if !(s.min_lr >= 0.0 && s.min_lr <= lr) {
        return fail(
            "schedule.min_lr",
            format!("must be in [0, optimizer.lr = {lr}], got {}", s.min_lr),
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
        other => ("model".to_string(), other.to_string()),
    })?;
    let text_data = d.dataset == crate::config::Dataset::MovieReviews;
    let token_model = matches!(c.model, plasticity_models::ModelConfig::Bert(_));
    if text_data != token_model {
        return fail(
            "data.dataset",
            "dataset = \"movie-reviews\" goes with [model] kind = \"bert\" (text needs a token model, and a token model text)".into(),
        );
    }
    if text_data && d.max_length < 2 {
        return fail("data.max_length", format!("must be at least 2 ([CLS] and [SEP]), got {}", d.max_length));
    }
    crate::device::parse_device(&c.device).map_err(|e| ("device".to_string(), e.to_string()))?;
    Ok(())
}
