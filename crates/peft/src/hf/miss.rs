//! MiSS adapter directories: `base_model.model.<M>.miss_block`, copied in peft's own shape and
//! orientation (bone `[r, d_out]`, mini `[r, mini_r]`, bat `[d_out/r, r, r]`).

use super::collect::{Found, adapted};
use super::config_json::{ConfigFile, miss_json};
use super::io::{F32Tensor, TensorFile, f32_values, file_error};
use super::saved::{load_adapter_dir, saved_names, write_adapter_dir};
use super::{ADAPTER_CONFIG, ADAPTER_WEIGHTS, HfOptions, KEY_PREFIX};
use crate::saved::exclusion;
use crate::{MissConfig, MissVariant, PeftError};
use burn::module::Module;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

const METHOD: &str = "peft export";

/// peft's `init_weights` for a variant: `true`, `"bat"` or `"mini"`.
fn init_weights(variant: MissVariant) -> Value {
    match variant {
        MissVariant::Bone => json!(true),
        MissVariant::Bat => json!("bat"),
        MissVariant::Mini => json!("mini"),
    }
}

/// The shape peft gives `miss_block` for a weight of Burn shape `[d_in, d_out]`.
fn block_shape(config: &MissConfig, d_out: usize) -> Vec<usize> {
    let r = config.r;
    match config.variant {
        MissVariant::Bone => vec![r, d_out],
        MissVariant::Mini => vec![r, config.mini_r],
        MissVariant::Bat => vec![d_out / r, r, r],
    }
}

/// Write `model`'s MiSS adapters to `dir` as a peft adapter directory (`peft_type` `"MISS"`),
/// identity module names. Every adapter must be of `config.variant` with `config`'s shapes.
pub fn export_miss<M: Module>(model: &M, config: &MissConfig, dir: impl AsRef<Path>) -> Result<(), PeftError> {
    export_miss_with(model, config, dir, &HfOptions::default())
}

/// [`export_miss`] with module renaming and config metadata.
pub fn export_miss_with<M: Module>(
    model: &M,
    config: &MissConfig,
    dir: impl AsRef<Path>,
    options: &HfOptions,
) -> Result<(), PeftError> {
    let dir = dir.as_ref();
    let mut modules = Vec::new();
    let mut blocks = Vec::new();
    for entry in adapted(model, true) {
        let block = match (&entry.found, config.variant) {
            // Another method's reparameterization: not part of the adapter (as for LoRA).
            (Found::Other(_), _) => continue,
            (Found::Bone(b), MissVariant::Bone)
            | (Found::Mini(b), MissVariant::Mini)
            | (Found::Bat(b), MissVariant::Bat) => b.clone(),
            (found, variant) => return Err(mismatch(&entry.param, variant, &found.kind())),
        };
        let shape = block.shape().to_vec();
        let values = f32_values(block)?;
        let module = entry
            .module()
            .ok_or_else(|| mismatch(&entry.param, config.variant, "a parameter not named `weight`"))?;
        let expected = block_shape(config, entry.shape[1]);
        if shape != expected {
            return Err(PeftError::Shape {
                method: METHOD,
                module: module.to_string(),
                shape: entry.shape.clone(),
                reason: format!(
                    "MiSS block has shape {shape:?}; the config (r = {}) gives {expected:?}",
                    config.r
                ),
            });
        }
        modules.push(module.to_string());
        blocks.push(F32Tensor::new(shape, &values));
    }
    if modules.is_empty() {
        return Err(mismatch("(model)", config.variant, "no MiSS adapter"));
    }
    let names = options.hf_names(&modules)?;
    let tensors: BTreeMap<String, F32Tensor> = names
        .iter()
        .zip(blocks)
        .map(|(name, block)| (format!("{KEY_PREFIX}{name}.miss_block"), block))
        .collect();
    let json = miss_json(config.r, config.mini_r, init_weights(config.variant), &names, options);
    write_adapter_dir(model, dir, options, tensors, json)
}

fn mismatch(param: &str, variant: MissVariant, found: &str) -> PeftError {
    PeftError::Config {
        method: METHOD,
        key: "variant",
        value: param.to_string(),
        reason: format!("expected a MiSS {variant:?} adapter, found {found}"),
    }
}

/// Read a peft MiSS adapter directory and attach it to `base_model` (no adapters, identity
/// module names): builds a [`MissConfig`] from `adapter_config.json` (`init_weights` `true` or
/// `false` → bone, `"bat"`, `"mini"`), applies it and loads every `miss_block`.
pub fn import_miss<M: Module>(base_model: M, dir: impl AsRef<Path>) -> Result<M, PeftError> {
    import_miss_with(base_model, dir, &HfOptions::default())
}

/// [`import_miss`] with module renaming (`options.names` maps Burn paths to the file's names).
pub fn import_miss_with<M: Module>(base_model: M, dir: impl AsRef<Path>, options: &HfOptions) -> Result<M, PeftError> {
    let dir = dir.as_ref();
    let config_path = dir.join(ADAPTER_CONFIG);
    let file = ConfigFile::read(&config_path, "MISS")?;
    let saved = saved_names(&file, options)?;
    let variant = match file.map.get("init_weights") {
        None | Some(Value::Bool(_)) => MissVariant::Bone,
        Some(Value::String(s)) if s == "bat" => MissVariant::Bat,
        Some(Value::String(s)) if s == "mini" => MissVariant::Mini,
        Some(other) => {
            let reason = format!("key `init_weights`: expected true, \"bat\" or \"mini\", found {other}");
            return Err(file_error(&config_path, reason));
        }
    };
    let mut config = MissConfig::new(file.targets(options)?)
        .with_r(file.usize_or("r", 64)?)
        .with_mini_r(file.usize_or("mini_r", 1)?)
        .with_variant(variant);
    config.exclude_modules = exclusion(None, &saved);
    let model = config.apply(base_model)?;

    let mut weights = TensorFile::read(&dir.join(ADAPTER_WEIGHTS))?;
    let mut entries = Vec::new();
    for entry in adapted(&model, false) {
        let (Some(module), &[_, d_out]) = (entry.module(), entry.shape.as_slice()) else {
            continue;
        };
        let shape = block_shape(&config, d_out);
        let key = format!("{KEY_PREFIX}{}.miss_block", options.hf_name(module));
        let values = weights.take(&key, &shape)?;
        entries.push((format!("{}.miss.b", entry.param), shape, values));
    }
    load_adapter_dir(model, entries, weights, &saved, options)
}
