//! `adapter_config.json`: writing peft's key sets (sorted keys, indent 2, as Python writes them)
//! and reading typed fields with errors that name the file and key.

use super::HfOptions;
use super::io::{file_error, read_json};
use crate::target::TargetModules;
use crate::{LoraConfig, PeftError};
use serde_json::{Map, Value, json};
use std::path::Path;

/// Python's `json.dumps(value, indent=2, sort_keys=True)` (no trailing newline, as peft writes).
pub(crate) fn to_python_json(value: &Value) -> String {
    serde_json::to_string_pretty(&sorted(value)).expect("a JSON value serializes")
}

/// Rebuild objects with their keys inserted in sorted order (also right under serde_json's
/// `preserve_order` feature).
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(keys.into_iter().map(|k| (k.clone(), sorted(&map[k]))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// A number as Python would store it: an integer when it is one (peft's `lora_alpha: int`).
fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

/// The keys every peft config has (`PeftConfig`), plus the common tuner keys.
fn common(peft_type: &str, targets: &[String], options: &HfOptions) -> Map<String, Value> {
    let Value::Object(map) = json!({
        "auto_mapping": null,
        "base_model_name_or_path": options.base_model_name_or_path,
        "bias": "none",
        "inference_mode": true,
        "layers_pattern": null,
        "layers_to_transform": null,
        "modules_to_save": null,
        "peft_type": peft_type,
        "revision": null,
        "target_modules": targets,
        "task_type": options.task_type,
    }) else {
        unreachable!()
    };
    map
}

/// peft.md §5.2's recommended LoRA key set (every key exists from peft 0.10 on).
pub(crate) fn lora_json(config: &LoraConfig, targets: &[String], options: &HfOptions) -> Value {
    let (r, alpha, rslora) = (config.r, config.alpha, config.use_rslora);
    let mut map = common("LORA", targets, options);
    let extra = json!({
        "alpha_pattern": {},
        "fan_in_fan_out": false,
        "init_lora_weights": true,
        "layer_replication": null,
        "loftq_config": {},
        "lora_alpha": number(alpha),
        "lora_dropout": config.dropout,
        "megatron_config": null,
        "megatron_core": "megatron.core",
        "r": r,
        "rank_pattern": {},
        "use_dora": false,
        "use_rslora": rslora,
    });
    if let Value::Object(extra) = extra {
        map.extend(extra);
    }
    Value::Object(map)
}

/// `MissConfig`'s keys (peft ≥ 0.17). `init_weights` is `true`, `"bat"` or `"mini"`.
pub(crate) fn miss_json(
    r: usize,
    mini_r: usize,
    init_weights: Value,
    targets: &[String],
    options: &HfOptions,
) -> Value {
    let mut map = common("MISS", targets, options);
    map.insert("exclude_modules".into(), Value::Null);
    map.insert("init_weights".into(), init_weights);
    map.insert("mini_r".into(), json!(mini_r));
    map.insert("miss_dropout".into(), json!(0.0));
    map.insert("r".into(), json!(r));
    Value::Object(map)
}

/// Typed access to a parsed `adapter_config.json`.
pub(crate) struct ConfigFile<'a> {
    pub path: &'a Path,
    pub map: Map<String, Value>,
}

impl<'a> ConfigFile<'a> {
    /// Reads `adapter_config.json` at `path` and checks what every import needs: `peft_type` is
    /// `peft_type` and `bias` is `"none"`.
    pub(crate) fn read(path: &'a Path, peft_type: &str) -> Result<Self, PeftError> {
        let file = ConfigFile {
            path,
            map: read_json(path)?,
        };
        file.expect_type(peft_type)?;
        file.require("bias", &["none".into()], "\"none\"")?;
        Ok(file)
    }

    pub(crate) fn bad(&self, key: &str, expected: &str) -> PeftError {
        let found = self.map.get(key).map_or("nothing".to_string(), Value::to_string);
        file_error(self.path, format!("key `{key}`: expected {expected}, found {found}"))
    }

    /// Check `peft_type`.
    pub(crate) fn expect_type(&self, expected: &str) -> Result<(), PeftError> {
        match self.map.get("peft_type").and_then(Value::as_str) {
            Some(t) if t == expected => Ok(()),
            Some(t) => Err(PeftError::Config {
                method: "peft import",
                key: "peft_type",
                value: t.to_string(),
                reason: format!("{}: expected \"{expected}\"", self.path.display()),
            }),
            None => Err(self.bad("peft_type", &format!("\"{expected}\""))),
        }
    }

    pub(crate) fn usize_or(&self, key: &str, default: usize) -> Result<usize, PeftError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v
                .as_u64()
                .map(|x| x as usize)
                .ok_or_else(|| self.bad(key, "an integer ≥ 0")),
        }
    }

    pub(crate) fn f64_or(&self, key: &str, default: f64) -> Result<f64, PeftError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v.as_f64().ok_or_else(|| self.bad(key, "a number")),
        }
    }

    pub(crate) fn bool_or(&self, key: &str, default: bool) -> Result<bool, PeftError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v.as_bool().ok_or_else(|| self.bad(key, "true or false")),
        }
    }

    /// Fail unless `key` is absent, null or equal to one of `allowed` (an unsupported feature).
    pub(crate) fn require(&self, key: &str, allowed: &[Value], what: &str) -> Result<(), PeftError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(()),
            Some(v) if allowed.contains(v) => Ok(()),
            Some(_) => Err(self.bad(key, &format!("{what} (not supported by plasticity)"))),
        }
    }

    /// `target_modules` mapped to Burn module paths (a regex string is used unchanged).
    pub(crate) fn targets(&self, options: &HfOptions) -> Result<TargetModules, PeftError> {
        match self.map.get("target_modules") {
            Some(Value::String(regex)) => Ok(TargetModules::Regex(regex.clone())),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(|s| options.burn_name(s)))
                .collect::<Option<Vec<_>>>()
                .map(TargetModules::Names)
                .ok_or_else(|| self.bad("target_modules", "a list of module names or a regex")),
            _ => Err(self.bad("target_modules", "a list of module names or a regex")),
        }
    }
}
