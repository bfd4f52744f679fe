//! Continual backpropagation (Dohare et al., "Loss of plasticity in deep continual learning",
//! Nature 2024; official code `lop/algos/gnt.py`; spec continual.md §3): after every optimizer
//! step, each hidden layer's units keep a running utility, and a small fraction of the mature
//! units with the lowest utility are re-initialised. `config.rs` has the keys and the sources of
//! the defaults, `utility.rs` the bookkeeping, `layout.rs` which entries of Burn's weights a
//! unit owns, `method.rs` the Method.

pub mod config;
pub mod layout;
pub mod method;
pub mod utility;

pub use config::{CbpConfig, InitBound, UtilityKind};
pub use method::CbpMethod;
pub use utility::{StepStats, UnitState};
