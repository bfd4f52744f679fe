//! Sparse training on the Method API (work in progress): the gradual-magnitude schedule,
//! magnitude pruning, GraNet's neuroregeneration and ERK densities, faithful to the official
//! GraNet code (spec `../shared/specs/reparam-prune.md` §4), RigL (§5.2), physical masks with
//! masked optimizer state ([`PruneMethod`]), the `[prune]` table ([`PruneConfig`]); and
//! one-shot magnitude pruning with torch.prune's semantics ([`oneshot`], the baselines' base).

pub mod config;
pub mod erk;
pub mod format;
pub mod kernel;
pub mod magnitude;
pub mod masks;
pub mod method;
pub mod oneshot;
pub mod schedule;
pub mod scores;
pub mod supermask;

pub use config::{PruneConfig, PruneKind, Scope};
pub use method::PruneMethod;
pub use supermask::SupermaskMethod;
