//! TauGate ("Dopamine: Brain Modes, Not Brains", arXiv 2602.11726), peft.md §1: a frozen model's
//! hidden units get a trainable threshold and gain, applied through a
//! [`Hook`](plasticity_core::Hook): `model.forward_hooked(x, &gates.hooks())`.

mod config;
mod gate;
mod method;
pub mod report;
mod stats;

pub use config::{AnnealConfig, TauGateConfig};
pub use gate::{GateSet, NeuronGate};
pub use method::{GATES_FILE, SAVED_FILE, TauGate};
pub use stats::{GateStatistics, gate_statistics, gate_statistics_of};
