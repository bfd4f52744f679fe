//! Loading a Hugging Face BERT checkpoint (`config.json`, `model.safetensors`) through
//! burn-store: `SafetensorsStore` with `PyTorchToBurnAdapter` (Linear weights transposed,
//! LayerNorm's `weight`/`bias` to `gamma`/`beta`) and the two key renamings of [`super`].
//! `embeddings.position_ids` (I64) and `pooler.*` are skipped on purpose; any other tensor the
//! file lacks, has in another shape, or has and the model does not use is an error that names it.

use super::config::{BertConfig, BertError};
use super::model::BertModel;
use burn::store::{ModuleSnapshot, PyTorchToBurnAdapter, SafetensorsStore};
use burn::tensor::Device;
use std::path::Path;

/// File tensors not loaded, on purpose: the position ids buffer and the pooler (sentence
/// embeddings are mean-pooled, and `BertModel` exports have no head).
fn skipped(name: &str) -> bool {
    name == "embeddings.position_ids" || name.starts_with("pooler.")
}

/// The Hugging Face name of a parameter path of [`BertModel`] (`attention.self_attn` →
/// `attention.self`, `layer_norm.gamma`/`beta` → `LayerNorm.weight`/`bias`).
pub fn hf_name(path: &str) -> String {
    path.replace("attention.self_attn.", "attention.self.")
        .replace("layer_norm.gamma", "LayerNorm.weight")
        .replace("layer_norm.beta", "LayerNorm.bias")
}

/// The encoder of the checkpoint in `dir`, on `device`, with its config.
pub fn load_pretrained(dir: &Path, device: &Device) -> Result<(BertConfig, BertModel), BertError> {
    let config = BertConfig::from_file(&dir.join("config.json"))?;
    let file = dir.join("model.safetensors");
    if !file.is_file() {
        return Err(BertError::file(&file, "not found: a pretrained checkpoint directory holds config.json and model.safetensors"));
    }
    let mut model = config.init(device);
    let mut store = SafetensorsStore::from_file(&file)
        .with_from_adapter(PyTorchToBurnAdapter)
        .with_key_remapping(r"\.attention\.self\.", ".attention.self_attn.")
        .with_key_remapping(r"LayerNorm", "layer_norm")
        .allow_partial(true);
    let result = model.load_from(&mut store).map_err(|e| BertError::file(&file, format!("{e}")))?;
    if let Some(error) = result.errors.first() {
        return Err(BertError::file(&file, format!("{error}")));
    }
    if !result.missing.is_empty() {
        let names: Vec<String> = result.missing.iter().map(|(p, _)| hf_name(p)).collect();
        return Err(BertError::file(&file, format!("missing tensors the model needs: {}", names.join(", "))));
    }
    let unused: Vec<String> = result.unused.iter().map(|p| hf_name(p)).filter(|n| !skipped(n)).collect();
    if !unused.is_empty() {
        return Err(BertError::file(&file, format!("tensors this BERT does not use: {}", unused.join(", "))));
    }
    Ok((config, model))
}
