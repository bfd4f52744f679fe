//! Weight reparameterizations for any Burn model, as `plasticity_core::Method`s built from the
//! `[reparam]` table (docs/reparam.md, `shared/specs/reparam-prune.md` §1–2):
//!
//! * [`weight_norm`]: `w = g · v / ‖v‖` per output unit (or over the whole tensor), `g` and `v`
//!   trained, optional data-dependent init (Salimans & Kingma 2016), exported with PyTorch's
//!   parametrization names;
//! * [`compander`]: `W = f(w; θ)` elementwise with an odd companding function `f` that expands
//!   small weights and compresses large ones, `θ` fixed or learned per layer.
//!
//! Both are Burn `Reparameterization`s on the targeted weights (Linear and Conv2d by default):
//! the layer code is unchanged, `Param::val()` returns the reparameterized weight, and Burn's
//! `materialize()` bakes it (`plasticity merge`). Layout: Burn stores a Linear weight as
//! `[d_in, d_out]` (the transpose of PyTorch), a Conv2d weight as `[c_out, c_in, k_h, k_w]`.

pub mod compander;
pub mod config;
pub mod error;
pub mod target;
pub mod weight_norm;

pub use compander::{Compander, CompanderConfig, CompanderForm, Companding};
pub use config::ReparamConfig;
pub use error::ReparamError;
pub use weight_norm::{NormLayout, WeightNorm, WeightNormConfig};
