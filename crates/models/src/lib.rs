//! Models for plasticity: a configurable MLP and a small LeNet-style CNN, both
//! [`PlasticModel`]s with insertion points for activation-space methods. The trait itself lives
//! in `plasticity-core` and is re-exported here.

pub mod bert;
pub mod cnn;
pub mod config;
pub mod mlp;

pub use cnn::{Cnn, CnnConfig};
pub use config::{BertRunConfig, ModelConfig, ModelError, WithModel};
pub use mlp::{Mlp, MlpConfig};
pub use plasticity_core::{Activation, Hooks, InsertionPoint, PlasticModel};
