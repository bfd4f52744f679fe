//! The `[model]` table of a run config.

use crate::{CnnConfig, MlpConfig, PlasticModel};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model.{key}: {message}")]
    Invalid { key: &'static str, message: String },
}

/// Which bundled model to build: `kind = "mlp"` or `kind = "cnn"`, plus that model's options.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ModelConfig {
    Mlp(MlpConfig),
    Cnn(CnnConfig),
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
        }
        Ok(())
    }

    /// Number of input features the model expects per example.
    pub fn input_features(&self) -> usize {
        match self {
            Self::Mlp(c) => c.input,
            Self::Cnn(c) => c.side * c.side,
        }
    }

    pub fn classes(&self) -> usize {
        match self {
            Self::Mlp(c) => c.classes,
            Self::Cnn(c) => c.classes,
        }
    }

    /// Builds the configured model and hands it to `f`, so code generic over [`PlasticModel`]
    /// runs on it with the model's own parameter paths (an enum module would prefix them with
    /// the variant name).
    pub fn build<F: WithModel>(&self, device: &Device, f: F) -> F::Output {
        match self {
            Self::Mlp(c) => f.run(c.init(device)),
            Self::Cnn(c) => f.run(c.init(device)),
        }
    }
}

/// Generic code to run on whichever model a config builds (see [`ModelConfig::build`]). The
/// bundled models read images, `[batch, features]`.
pub trait WithModel {
    type Output;
    fn run<M: PlasticModel<Input = Tensor<2>>>(self, model: M) -> Self::Output;
}
