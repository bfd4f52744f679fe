//! Hugging Face interchange: peft-format adapter directories (`adapter_model.safetensors` +
//! `adapter_config.json`, loadable with `PeftModel.from_pretrained`) and a PyTorch-layout export
//! of the base model (loadable with `load_state_dict`). Specification: `shared/specs/peft.md` §5.2.
//!
//! # Functions
//! * [`export_lora`] / [`export_miss`] write an adapter directory; [`import_lora`] /
//!   [`import_miss`] read one back onto a base model (validating `peft_type`, keys, dtypes and
//!   shapes; every problem is a [`PeftError`](crate::PeftError) naming the file and the key).
//!   The `_with` variants take [`HfOptions`] (module renaming, `base_model_name_or_path`,
//!   `task_type`).
//! * [`export_base_pytorch`] writes the frozen base weights (or a merged model) as one
//!   safetensors file in PyTorch layout; [`import_base_pytorch`] loads such a file (or a torch
//!   `state_dict` saved with `safetensors.torch.save_file`) into a Burn model.
//!
//! # Module names
//! `<M>` below is the *exported* name of a module. A Burn module path is a weight's parameter
//! path minus `.weight` (`hidden.0.weight` → `hidden.0`). By default the exported name equals the
//! Burn path (identity: `hidden.0` → `hidden.0`, `output` → `output`), which is what an
//! equivalent torch module with the same attribute names (`self.hidden = nn.ModuleList(...)`,
//! `self.output = nn.Linear(...)`) reports from `named_modules()`. To target a transformers model,
//! give [`HfOptions::names`] a map from Burn path to transformers path (e.g. `layers.3.q` →
//! `model.layers.3.self_attn.q_proj`); unmapped paths keep the identity. Import applies the inverse
//! map. Two modules may not export to the same name. A `target_modules` regex in an imported file
//! is matched against Burn paths unchanged (with a renaming map, prefer lists).
//!
//! # Checked against Python
//! `examples/export_for_python.rs` + `scripts/check_peft_export.py` load the exported base with a
//! strict `load_state_dict` and each adapter with `PeftModel.from_pretrained`, and compare outputs
//! (LoRA, MiSS bone, MiSS bat; max difference below 1e-6 with torch 2.15 / peft 0.21.2); with
//! `--write-from-python` and `examples/import_from_python.rs` the reverse direction (adapters saved
//! by peft, including MiSS mini and rsLoRA, imported here) is checked the same way.
//!
//! # Per-tensor layout
//! Burn stores a Linear weight as `[d_in, d_out]`, PyTorch as `[out, in]`. peft key prefix:
//! `base_model.model.`.
//!
//! | tensor | Burn parameter, shape | file key | file shape | conversion |
//! |---|---|---|---|---|
//! | LoRA A | `<m>.weight.lora.a` `[d_in, r]` | `base_model.model.<M>.lora_A.weight` | `[r, d_in]` | transpose |
//! | LoRA B | `<m>.weight.lora.b` `[r, d_out]` | `base_model.model.<M>.lora_B.weight` | `[d_out, r]` | transpose |
//! | LoRA scale | `LoraAdapter::scale` | `lora_alpha`, `use_rslora`, `r` in the JSON | — | `alpha/r` or `alpha/√r` |
//! | MiSS bone | `<m>.weight.miss.b` `[r, d_out]` | `base_model.model.<M>.miss_block` | `[r, d_out]` | copy |
//! | MiSS mini | `<m>.weight.miss.b` `[r, mini_r]` | `base_model.model.<M>.miss_block` | `[r, mini_r]` | copy |
//! | MiSS bat | `<m>.weight.miss.b` `[d_out/r, r, r]` | `base_model.model.<M>.miss_block` | `[d_out/r, r, r]` | copy (peft orientation) |
//! | base Linear weight | `<m>.weight` (stored base) `[d_in, d_out]` | `<m>.weight` | `[d_out, d_in]` | transpose |
//! | other base params (biases, conv kernels) | `<m>.<name>` | `<m>.<name>` | unchanged | copy |
//! | saved module param (`modules_to_save`) | `<m>.<name>` | `base_model.model.<M>.<name>` | as for the base | as for the base |
//!
//! Every tensor is written as little-endian F32 with metadata `{"format": "pt"}`. On import F32,
//! F16, BF16 and F64 are accepted and converted to f32. `adapter_config.json` is written as
//! Python's `json.dumps(indent=2, sort_keys=True)` does; LoRA: peft.md §5.2's recommended key set
//! (loads on peft ≥ 0.10), MiSS: `MissConfig`'s keys (peft ≥ 0.17).
//!
//! `modules_to_save` ([`HfOptions::modules_to_save`] on export, the JSON list on import) is written
//! as peft writes the trained copy of its `ModulesToSaveWrapper`: `base_model.model.output.weight`
//! `[out, in]` and `base_model.model.output.bias` for `modules_to_save = ["output"]`; on import the
//! saved modules are excluded from the targets (as peft does) and loaded over the base values.
//!
//! Not representable, rejected on import: LoRA biases (`bias` ≠ `"none"`, `lora_bias`), DoRA,
//! `fan_in_fan_out`, `rank_pattern`/`alpha_pattern`, inits that rewrite the base
//! (PiSSA, OLoRA, LoftQ, EVA, CorDA), QALoRA, `layer_replication`, `trainable_token_indices`,
//! `target_parameters`. Dropout values are ignored (inference only). On export the LoRA scale is
//! taken from the given config: Burn's module traversal does not expose `LoraAdapter::scale`, so
//! pass the config the adapters were attached with.

mod base;
mod collect;
mod config_json;
mod io;

pub use io::{F32Tensor, transpose, write_safetensors};
mod lora;
mod miss;
mod saved;

pub use base::{export_base_pytorch, export_base_pytorch_baking, import_base_pytorch};
pub use lora::{export_lora, export_lora_with, import_lora, import_lora_with};
pub use miss::{export_miss, export_miss_with, import_miss, import_miss_with};

use crate::PeftError;
use std::collections::BTreeMap;

/// File name of the adapter weights in a peft adapter directory.
pub const ADAPTER_WEIGHTS: &str = "adapter_model.safetensors";
/// File name of the adapter configuration in a peft adapter directory.
pub const ADAPTER_CONFIG: &str = "adapter_config.json";
/// Prefix of every key peft saves (`PeftModel.base_model.model`).
pub const KEY_PREFIX: &str = "base_model.model.";

/// Options for writing and reading peft adapter directories.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HfOptions {
    /// Burn module path → exported module name. Paths not in the map export unchanged.
    pub names: BTreeMap<String, String>,
    /// Written to `base_model_name_or_path` (null when `None`).
    pub base_model_name_or_path: Option<String>,
    /// Written to `task_type` (null when `None`: a plain `PeftModel`, right for a custom torch
    /// module; `"CAUSAL_LM"` etc. for transformers models).
    pub task_type: Option<String>,
    /// `modules_to_save` (Burn names, as in the run's `[peft]`): exported whole with the adapter,
    /// as `base_model.model.<M>.<param>` in PyTorch layout. Import reads the list from the file.
    pub modules_to_save: Vec<String>,
}

impl HfOptions {
    /// Options with a module renaming map.
    pub fn with_names(names: BTreeMap<String, String>) -> Self {
        Self {
            names,
            ..Self::default()
        }
    }

    /// The exported name of a Burn module path.
    pub fn hf_name(&self, burn_path: &str) -> String {
        self.names
            .get(burn_path)
            .cloned()
            .unwrap_or_else(|| burn_path.to_string())
    }

    /// The Burn module path of an exported name (the inverse of [`hf_name`](Self::hf_name)).
    pub fn burn_name(&self, hf_name: &str) -> String {
        self.names
            .iter()
            .find(|(_, v)| v.as_str() == hf_name)
            .map(|(k, _)| k.clone())
            .unwrap_or_else(|| hf_name.to_string())
    }

    /// Exported names of `modules`, refusing two modules with the same exported name.
    pub(crate) fn hf_names(&self, modules: &[String]) -> Result<Vec<String>, PeftError> {
        let mut seen = BTreeMap::new();
        let mut out = Vec::with_capacity(modules.len());
        for module in modules {
            let name = self.hf_name(module);
            if let Some(other) = seen.insert(name.clone(), module.clone()) {
                return Err(PeftError::Config {
                    method: "peft export",
                    key: "names",
                    value: name,
                    reason: format!("modules `{other}` and `{module}` export to the same name"),
                });
            }
            out.push(name);
        }
        Ok(out)
    }
}
