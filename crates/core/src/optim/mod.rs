//! Optimizers whose state methods can reach (see [`optimizer`] for why they exist), their
//! `[optimizer]` config, and the state API rules use to mask or reset moments element by element.

pub mod classp;
pub mod config;
pub mod optimizer;
pub mod state;
mod update;

pub use config::{AdagradConfig, AdamConfig, AdamWConfig, ClasspConfig, ClasspMode, Implementation, OptimizerConfig, SgdConfig};
pub use optimizer::{NO_DECAY_PATTERN, Optimizer, PlasticOptimizer};
pub use state::{Buffer, ElementMask, OptimizerState, ParamState};
