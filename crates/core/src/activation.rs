//! Elementwise activation functions, named as in a run config (`activation = "relu"`).

use burn::tensor::{Tensor, activation};
use serde::{Deserialize, Serialize};

/// The nonlinearity φ applied after a layer's pre-activation `z`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    #[default]
    Relu,
    Gelu,
    Tanh,
    Sigmoid,
    Silu,
    /// Leaky ReLU with PyTorch's default negative slope 0.01.
    LeakyRelu,
}

impl Activation {
    /// φ(z), any shape.
    pub fn apply<const D: usize>(self, z: Tensor<D>) -> Tensor<D> {
        match self {
            Self::Relu => activation::relu(z),
            Self::Gelu => activation::gelu(z),
            Self::Tanh => activation::tanh(z),
            Self::Sigmoid => activation::sigmoid(z),
            Self::Silu => activation::silu(z),
            Self::LeakyRelu => activation::leaky_relu(z, 0.01),
        }
    }

    /// The name used in configs and reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Relu => "relu",
            Self::Gelu => "gelu",
            Self::Tanh => "tanh",
            Self::Sigmoid => "sigmoid",
            Self::Silu => "silu",
            Self::LeakyRelu => "leaky_relu",
        }
    }
}
