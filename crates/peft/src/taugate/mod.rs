//! TauGate ("Dopamine: Brain Modes, Not Brains", arXiv 2602.11726), peft.md §1: a frozen model's
//! hidden units get a trainable threshold and gain, applied through
//! [`ActivationHook`](plasticity_models::ActivationHook): `model.forward_hooked(x, &gates)`.

mod config;
mod gate;
mod stats;

pub use config::{AnnealConfig, TauGateConfig};
pub use gate::{GateSet, NeuronGate};
pub use stats::{GateStatistics, gate_statistics};
