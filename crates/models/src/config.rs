//! The `[model]` table of a run config.

use crate::bert::{BertClassifier, Pooling, load_pretrained};
use crate::{CnnConfig, MlpConfig, PlasticModel};
use burn::tensor::{Device, Tensor};
use plasticity_core::Tokens;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model.{key}: {message}")]
    Invalid { key: &'static str, message: String },
    /// A pretrained checkpoint that cannot be loaded (the message names the file).
    #[error("model.pretrained: {0}")]
    Pretrained(String),
}

impl From<crate::bert::BertError> for ModelError {
    fn from(e: crate::bert::BertError) -> Self {
        Self::Pretrained(e.to_string())
    }
}

/// `kind = "bert"`: a pretrained BERT encoder (a Hugging Face checkpoint directory: config.json,
/// model.safetensors, tokenizer.json) with a sequence-classification head.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BertRunConfig {
    /// The checkpoint directory (for example ../shared/data/text/all-MiniLM-L6-v2).
    pub pretrained: PathBuf,
    /// What the head reads: `mean` (over real tokens, default) or `cls`.
    #[serde(default)]
    pub pooling: Pooling,
    #[serde(default = "two")]
    pub classes: usize,
}

fn two() -> usize {
    2
}

/// Which bundled model to build: `kind = "mlp"` or `kind = "cnn"`, plus that model's options.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ModelConfig {
    Mlp(MlpConfig),
    Cnn(CnnConfig),
    Bert(BertRunConfig),
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self::Mlp(MlpConfig::default())
    }
}

impl ModelConfig {
    /// Checks values serde cannot: non-zero widths, an image large enough for the CNN.
    pub fn validate(&self) -> Result<(), ModelError> {
        let invalid = |key, message: &str| {
            Err(ModelError::Invalid {
                key,
                message: message.into(),
            })
        };
        match self {
            Self::Mlp(c) => {
                if c.input == 0 {
                    return invalid("input", "must be at least 1");
                }
                if c.hidden.contains(&0) {
                    return invalid("hidden", "every hidden width must be at least 1");
                }
                if c.classes < 2 {
                    return invalid("classes", "must be at least 2");
                }
            }
            Self::Cnn(c) => {
                if c.feature_side() == 0 {
                    return invalid(
                        "side",
                        "must be at least 16 pixels (two 5x5 convolutions and 2x2 pools)",
                    );
                }
                if c.channels.contains(&0) || c.hidden == 0 {
                    return invalid("channels", "channels and hidden must be at least 1");
                }
                if c.classes < 2 {
                    return invalid("classes", "must be at least 2");
                }
            }
            Self::Bert(c) => {
                if c.classes < 2 {
                    return invalid("classes", "must be at least 2");
                }
            }
        }
        Ok(())
    }

    /// Number of input features the model expects per example (0 for a token model).
    pub fn input_features(&self) -> usize {
        match self {
            Self::Mlp(c) => c.input,
            Self::Cnn(c) => c.side * c.side,
            Self::Bert(_) => 0,
        }
    }

    pub fn classes(&self) -> usize {
        match self {
            Self::Mlp(c) => c.classes,
            Self::Cnn(c) => c.classes,
            Self::Bert(c) => c.classes,
        }
    }

    /// Builds the configured model (a pretrained one loaded from its files) and hands it to
    /// `f`, so code generic over [`PlasticModel`] runs on it with the model's own parameter
    /// paths (an enum module would prefix them with the variant name).
    pub fn build<F: WithModel>(&self, device: &Device, f: F) -> Result<F::Output, ModelError> {
        Ok(match self {
            Self::Mlp(c) => f.run(c.init(device)),
            Self::Cnn(c) => f.run(c.init(device)),
            Self::Bert(c) => {
                let (_, encoder) = load_pretrained(&c.pretrained, device)?;
                f.run_tokens(BertClassifier::new(encoder, c.classes, c.pooling, device))
            }
        })
    }
}

/// Generic code to run on whichever model a config builds (see [`ModelConfig::build`]): image
/// models read `[batch, features]`, token models [`Tokens`].
pub trait WithModel {
    type Output;
    fn run<M: PlasticModel<Input = Tensor<2>>>(self, model: M) -> Self::Output;
    fn run_tokens<M: PlasticModel<Input = Tokens>>(self, model: M) -> Self::Output;
}
