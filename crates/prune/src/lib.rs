//! Sparse training on the Method API (work in progress): the gradual-magnitude schedule,
//! magnitude pruning, GraNet's neuroregeneration and ERK densities, faithful to the official
//! GraNet code (spec `../shared/specs/reparam-prune.md` §4). The masks, the `[prune]` table,
//! RigL and the Method come next.

pub mod erk;
pub mod magnitude;
pub mod schedule;
