//! Weight normalization (Salimans & Kingma, NeurIPS 2016, arXiv:1602.07868): `w = g · v / ‖v‖`;
//! reparam-prune.md §2.

mod config;
mod export;
mod init;
mod method;
mod reparam;

pub use config::{NormOver, WeightNormConfig};
pub use export::export_weight_norm;
pub use init::data_dependent_init;
pub use method::{EXPORT_FILE, WeightNormMethod};
pub use reparam::{MIN_NORM, NormLayout, WeightNorm};
