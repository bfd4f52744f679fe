//! `config.json` of a Hugging Face BERT checkpoint: the architecture's sizes.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The keys of `config.json` this port reads (Hugging Face's names); the others are ignored.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    #[serde(default = "two")]
    pub type_vocab_size: usize,
    /// LayerNorm's epsilon (1e-12 for BERT; Burn's LayerNorm defaults to 1e-5).
    #[serde(default = "bert_eps")]
    pub layer_norm_eps: f64,
    #[serde(default = "gelu")]
    pub hidden_act: String,
    #[serde(default)]
    pub pad_token_id: usize,
}

fn two() -> usize {
    2
}
fn bert_eps() -> f64 {
    1e-12
}
fn gelu() -> String {
    "gelu".into()
}

/// A pretrained checkpoint that cannot be used, with the file and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum BertError {
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
}

impl BertError {
    pub(crate) fn file(path: &Path, message: impl Into<String>) -> Self {
        Self::File {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

impl BertConfig {
    /// Reads and checks `config.json`.
    pub fn from_file(path: &Path) -> Result<Self, BertError> {
        let text = std::fs::read_to_string(path).map_err(|e| BertError::file(path, e.to_string()))?;
        let config: Self = serde_json::from_str(&text).map_err(|e| BertError::file(path, e.to_string()))?;
        if config.hidden_act != "gelu" {
            return Err(BertError::file(path, format!("hidden_act = \"{}\": only \"gelu\" (exact, erf) is implemented", config.hidden_act)));
        }
        if config.num_attention_heads == 0 || config.hidden_size % config.num_attention_heads != 0 {
            return Err(BertError::file(
                path,
                format!("hidden_size {} is not a multiple of num_attention_heads {}", config.hidden_size, config.num_attention_heads),
            ));
        }
        Ok(config)
    }
}
