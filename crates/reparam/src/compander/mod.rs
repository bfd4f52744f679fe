//! The weight compander (Cakaj, Mehnert, Yang, arXiv:2306.16993): `W = f(w; θ)` elementwise;
//! reparam-prune.md §1. The paper's formula and code are not public: the companding functions
//! are the spec's candidates, and the default is ours (docs/reparam.md).

mod config;
mod function;
mod method;
mod reparam;

pub use config::CompanderConfig;
pub use function::{CompanderForm, Companding, MuLaw, Power, Saturating};
pub use method::CompanderMethod;
pub use reparam::{Compander, compand};
