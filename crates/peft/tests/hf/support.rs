//! Helpers for `tests/hf.rs`: the test model, a training step, and a hand-written safetensors
//! reader and writer (8-byte little-endian header length, JSON header, data).
#![allow(dead_code)]

use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor};
use plasticity_models::{Activation, Mlp, MlpConfig, PlasticModel};
use plasticity_peft::{PeftError, TargetModules, hf};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[rustfmt::skip]
pub const KEYS_LORA: [&str; 24] = [
    "alpha_pattern",
    "auto_mapping",
    "base_model_name_or_path",
    "bias",
    "fan_in_fan_out",
    "inference_mode",
    "init_lora_weights",
    "layer_replication",
    "layers_pattern",
    "layers_to_transform",
    "loftq_config",
    "lora_alpha",
    "lora_dropout",
    "megatron_config",
    "megatron_core",
    "modules_to_save",
    "peft_type",
    "r",
    "rank_pattern",
    "revision",
    "target_modules",
    "task_type",
    "use_dora",
    "use_rslora",
];
#[rustfmt::skip]
pub const KEYS_MISS: [&str; 16] = [
    "auto_mapping",
    "base_model_name_or_path",
    "bias",
    "exclude_modules",
    "inference_mode",
    "init_weights",
    "layers_pattern",
    "layers_to_transform",
    "mini_r",
    "miss_dropout",
    "modules_to_save",
    "peft_type",
    "r",
    "revision",
    "target_modules",
    "task_type",
];
pub const MODULES: [&str; 3] = ["hidden.0", "hidden.1", "output"];

pub fn device() -> Device {
    Device::flex().autodiff()
}

pub fn targets() -> TargetModules {
    TargetModules::Regex(r"hidden\.\d+|output".into())
}

/// A fresh temporary directory per test.
pub fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("plasticity-hf-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Two identical MLPs 12-16-8-4 (parameters initialised before cloning, burn-0.22.md §11.7).
pub fn bases() -> (Mlp, Mlp) {
    let config = MlpConfig {
        input: 12,
        hidden: vec![16, 8],
        classes: 4,
        activation: Activation::Relu,
    };
    let base = config.init(&device());
    let _ = plasticity_core::param_infos(&base);
    (base.clone(), base)
}

/// Attach adapters and take two Adam steps so every adapter tensor is nonzero. Returns the
/// adapted model and an untouched copy of its base.
pub fn trained(apply: impl Fn(Mlp) -> Result<Mlp, PeftError>, x: &Tensor<2>) -> (Mlp, Mlp) {
    let (base, copy) = bases();
    let mut model = apply(base).unwrap();
    let mut optim = AdamConfig::new().init();
    for _ in 0..2 {
        let loss = (model.forward(x.clone()) - 1.0).powi_scalar(2).mean();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-2, model, grads);
    }
    (model, copy)
}

pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec::<f32>().unwrap()
}

pub fn max_diff(a: Tensor<2>, b: Tensor<2>) -> f32 {
    values(a)
        .iter()
        .zip(values(b))
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Parse a safetensors file by hand: 8-byte LE header length, JSON header, data.
pub fn parse(path: &Path) -> (serde_json::Map<String, Value>, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    (header.as_object().unwrap().clone(), bytes[8 + n..].to_vec())
}

/// One tensor of a hand-parsed file as f32 values, after checking its dtype and shape.
pub fn tensor_of(path: &Path, key: &str, shape: &[usize]) -> Vec<f32> {
    let (header, data) = parse(path);
    let info = &header[key];
    assert_eq!(info["dtype"], "F32", "{key}");
    assert_eq!(info["shape"], json!(shape), "{key}");
    let [start, end] = [0, 1].map(|i| info["data_offsets"][i].as_u64().unwrap() as usize);
    data[start..end]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// Check the header has exactly `expected` (key → shape), all F32, and `{"format": "pt"}`.
pub fn check_header(path: &Path, expected: &BTreeMap<String, Vec<usize>>) {
    let (header, _) = parse(path);
    assert_eq!(header["__metadata__"], json!({"format": "pt"}));
    let keys: Vec<&String> = header.keys().filter(|k| *k != "__metadata__").collect();
    assert_eq!(keys, expected.keys().collect::<Vec<_>>());
    for (key, shape) in expected {
        assert_eq!(header[key]["dtype"], "F32", "{key}");
        assert_eq!(header[key]["shape"], json!(shape), "{key}");
    }
}

pub fn read_json(dir: &Path) -> (String, serde_json::Map<String, Value>) {
    let text = std::fs::read_to_string(dir.join(hf::ADAPTER_CONFIG)).unwrap();
    let map = serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_object()
        .unwrap()
        .clone();
    (text, map)
}

pub fn error_text(result: Result<Mlp, PeftError>) -> String {
    result.expect_err("import must fail").to_string()
}

/// Build a safetensors file from `(key, shape, values)` by hand (little-endian F32).
pub fn write_raw(path: &Path, tensors: &[(String, Vec<usize>, Vec<f32>)]) {
    let mut header = serde_json::Map::new();
    header.insert("__metadata__".into(), json!({"format": "pt"}));
    let mut data = Vec::new();
    for (key, shape, values) in tensors {
        let start = data.len();
        data.extend(values.iter().flat_map(|v| v.to_le_bytes()));
        header.insert(
            key.clone(),
            json!({"dtype": "F32", "shape": shape, "data_offsets": [start, data.len()]}),
        );
    }
    let text = serde_json::to_string(&Value::Object(header)).unwrap();
    let mut bytes = (text.len() as u64).to_le_bytes().to_vec();
    bytes.extend(text.as_bytes());
    bytes.extend(data);
    std::fs::write(path, bytes).unwrap();
}
