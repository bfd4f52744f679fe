//! LoRA adapter directories: `lora_A.weight [r, d_in] = aᵀ`, `lora_B.weight [d_out, r] = bᵀ`.

use super::collect::{Found, adapted};
use super::config_json::{ConfigFile, lora_json};
use super::io::{F32Tensor, TensorFile, f32_values, transpose};
use super::saved::{load_adapter_dir, saved_names, write_adapter_dir};
use super::{ADAPTER_CONFIG, ADAPTER_WEIGHTS, HfOptions, KEY_PREFIX};
use crate::saved::exclusion;
use crate::{LoraConfig, PeftError};
use burn::module::Module;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

const METHOD: &str = "peft export";

/// Write `model`'s LoRA adapters to `dir` as a peft adapter directory, with identity module
/// names. `config` must be the config the adapters were attached with: its `r`, `alpha` and
/// `use_rslora` are written to `adapter_config.json`. The rank is checked against every adapter;
/// the scale cannot be (Burn's module traversal does not expose `LoraAdapter::scale`).
pub fn export_lora<M: Module>(model: &M, config: &LoraConfig, dir: impl AsRef<Path>) -> Result<(), PeftError> {
    export_lora_with(model, config, dir, &HfOptions::default())
}

/// [`export_lora`] with module renaming and config metadata.
pub fn export_lora_with<M: Module>(
    model: &M,
    config: &LoraConfig,
    dir: impl AsRef<Path>,
    options: &HfOptions,
) -> Result<(), PeftError> {
    let dir = dir.as_ref();
    let mut modules = Vec::new();
    let mut pairs = Vec::new();
    for entry in adapted(model, true) {
        let module = entry.module().map(str::to_string);
        if let Found::Other(_) = entry.found {
            // Another method's reparameterization (weight normalization): not part of the
            // adapter; `plasticity export` writes its effective weight into the base file.
            continue;
        }
        let Found::Lora { a, b } = entry.found else {
            return Err(mismatch(&entry.param, &entry.found.kind()));
        };
        let module = module.ok_or_else(|| mismatch(&entry.param, "LoRA on a parameter not named `weight`"))?;
        let (&[d_in, r], &[_, d_out]) = (a.shape().as_slice(), b.shape().as_slice()) else {
            return Err(mismatch(
                &entry.param,
                "a LoRA adapter with factors that are not matrices",
            ));
        };
        if r != config.r {
            return Err(PeftError::Config {
                method: METHOD,
                key: "r",
                value: r.to_string(),
                reason: format!("the adapter of `{module}` has rank {r}, the config says {}", config.r),
            });
        }
        let a = transpose(&f32_values(a)?, d_in, r);
        let b = transpose(&f32_values(b)?, r, d_out);
        modules.push(module);
        pairs.push(([r, d_in], a, [d_out, r], b));
    }
    if modules.is_empty() {
        return Err(mismatch("(model)", "no LoRA adapter"));
    }
    let names = options.hf_names(&modules)?;
    let mut tensors = BTreeMap::new();
    for (name, (a_shape, a, b_shape, b)) in names.iter().zip(pairs) {
        tensors.insert(
            format!("{KEY_PREFIX}{name}.lora_A.weight"),
            F32Tensor::new(a_shape.to_vec(), &a),
        );
        tensors.insert(
            format!("{KEY_PREFIX}{name}.lora_B.weight"),
            F32Tensor::new(b_shape.to_vec(), &b),
        );
    }
    write_adapter_dir(model, dir, options, tensors, lora_json(config, &names, options))
}

fn mismatch(param: &str, found: &str) -> PeftError {
    PeftError::Config {
        method: METHOD,
        key: "adapter",
        value: param.to_string(),
        reason: format!("expected a LoRA adapter, found {found}"),
    }
}

/// Read a peft LoRA adapter directory and attach it to `base_model` (a model without adapters,
/// identity module names): builds a [`LoraConfig`] from `adapter_config.json`, applies it (which
/// freezes the base) and loads `lora_A`ᵀ / `lora_B`ᵀ into the adapters.
pub fn import_lora<M: Module>(base_model: M, dir: impl AsRef<Path>) -> Result<M, PeftError> {
    import_lora_with(base_model, dir, &HfOptions::default())
}

/// [`import_lora`] with module renaming (`options.names` maps Burn paths to the file's names).
pub fn import_lora_with<M: Module>(base_model: M, dir: impl AsRef<Path>, options: &HfOptions) -> Result<M, PeftError> {
    let dir = dir.as_ref();
    let config_path = dir.join(ADAPTER_CONFIG);
    let file = ConfigFile::read(&config_path, "LORA")?;
    file.require("use_dora", &[false.into()], "false")?;
    file.require("fan_in_fan_out", &[false.into()], "false")?;
    file.require("lora_bias", &[false.into()], "false")?;
    // Newer peft features that change the function or the layers adapted.
    file.require("use_qalora", &[false.into()], "false")?;
    file.require("layer_replication", &[], "null")?;
    file.require("trainable_token_indices", &[], "null")?;
    file.require("alora_invocation_tokens", &[], "null")?;
    file.require("target_parameters", &[Value::Array(vec![])], "null or []")?;
    // PiSSA, OLoRA, LoftQ, EVA, CorDA change the base weights at init: the adapter alone does not
    // reproduce the model.
    let inits = [true.into(), false.into(), "gaussian".into(), "orthogonal".into()];
    file.require(
        "init_lora_weights",
        &inits,
        "true, false, \"gaussian\" or \"orthogonal\"",
    )?;
    file.require("rank_pattern", &[Value::Object(Default::default())], "{}")?;
    file.require("alpha_pattern", &[Value::Object(Default::default())], "{}")?;
    let saved = saved_names(&file, options)?;
    let r = file.usize_or("r", 8)?;
    let mut config = LoraConfig::new(file.targets(options)?)
        .with_r(r)
        .with_alpha(file.f64_or("lora_alpha", 8.0)?)
        .with_rslora(file.bool_or("use_rslora", false)?);
    config.exclude_modules = exclusion(None, &saved);
    let model = config.apply(base_model)?;

    let mut weights = TensorFile::read(&dir.join(ADAPTER_WEIGHTS))?;
    let mut entries = Vec::new();
    for entry in adapted(&model, false) {
        let (Some(module), &[d_in, d_out]) = (entry.module(), entry.shape.as_slice()) else {
            continue;
        };
        let name = options.hf_name(module);
        let a = weights.take(&format!("{KEY_PREFIX}{name}.lora_A.weight"), &[r, d_in])?;
        let b = weights.take(&format!("{KEY_PREFIX}{name}.lora_B.weight"), &[d_out, r])?;
        entries.push((format!("{}.lora.a", entry.param), vec![d_in, r], transpose(&a, r, d_in)));
        entries.push((
            format!("{}.lora.b", entry.param),
            vec![r, d_out],
            transpose(&b, d_out, r),
        ));
    }
    load_adapter_dir(model, entries, weights, &saved, options)
}
