//! `plasticity prune`: one-shot pruning of a finished run, as a new run. The new run starts
//! from the old one's final model (`init_from`, methods baked), prunes it before its first step
//! with `[prune] method = "magnitude" | "snip" | "synflow"` at the asked sparsity (scoring the
//! trained weights; SNIP on the first training batch), then fine-tunes it for
//! `finetune_epochs` with the mask fixed, with the old run's data, optimizer and schedule (the
//! schedule restarts over the fine-tuning epochs). With 0 epochs the pruned model is evaluated
//! as it is. The new run directory is an ordinary run: config.toml, model.bpk, results.json
//! (its `prune` section and test accuracy), `eval --run` and `export --sparse` work on it.

use crate::config::RunConfig;
use crate::error::{Result, TrainError};
use std::path::{Path, PathBuf};

/// The methods `plasticity prune` offers.
pub const METHODS: [&str; 3] = ["magnitude", "snip", "synflow"];

/// The config of the pruned run: `base` (the old run's config, overrides applied) with the old
/// run as `init_from`, its method tables replaced by `[prune]`, `finetune_epochs` epochs and
/// the output directory `out` (default `<run>-<method>-<sparsity>`, beside the run).
pub fn prune_config(run: &Path, mut base: RunConfig, method: &str, sparsity: f64, finetune_epochs: usize, out: Option<PathBuf>) -> Result<RunConfig> {
    let bad = |msg: String| TrainError::Run(msg);
    if !METHODS.contains(&method) {
        return Err(bad(format!("--method: unknown method `{method}`; expected one of {}", METHODS.join(", "))));
    }
    if !(sparsity.is_finite() && (0.0..1.0).contains(&sparsity)) {
        return Err(bad(format!("--sparsity: must be in [0, 1), got {sparsity}")));
    }
    let model = run.join("model.bpk");
    if !model.is_file() {
        return Err(bad(format!(
            "{}: no model.bpk; `plasticity prune` needs a finished run (train it to the end, or pass its directory)",
            run.display()
        )));
    }
    if base.continual.is_some() {
        return Err(bad(format!("{}: a continual run; prune one of its task directories (task-<k>/)", run.display())));
    }
    let text = format!("method = \"{method}\"\nfinal_sparsity = {sparsity}\n");
    let prune = toml::from_str(&text).map_err(|e| bad(format!("[prune]: {e}")))?;
    let tag = format!("{method}-{sparsity}");
    let name = run.file_name().map_or("run".into(), |n| n.to_string_lossy().into_owned());
    base.output_dir = Some(out.unwrap_or_else(|| run.with_file_name(format!("{name}-{tag}"))));
    base.name = format!("{}-{tag}", base.name);
    base.init_from = Some(run.to_path_buf());
    (base.peft, base.reparam, base.ewc, base.cbp, base.shrink_perturb) = (None, None, None, None, None);
    base.prune = Some(prune);
    base.train.epochs = finetune_epochs;
    crate::validate::validate(&base).map_err(|(key, msg)| bad(format!("{key}: {msg}")))?;
    Ok(base)
}
