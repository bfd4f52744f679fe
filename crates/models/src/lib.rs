//! Models for plasticity: a configurable MLP, a small LeNet-style CNN, and the
//! [`PlasticModel`] trait through which any Burn model (a user's own included) trains with
//! plasticity's runner and exposes its hidden layers to activation-space methods.

pub mod activation;
pub mod cnn;
pub mod config;
pub mod hook;
pub mod mlp;

pub use activation::Activation;
pub use cnn::{Cnn, CnnConfig};
pub use config::{ModelConfig, ModelError, WithModel};
pub use hook::{ActivationHook, InsertionPoint, NoHook, PlasticModel};
pub use mlp::{Mlp, MlpConfig};
