//! The signed supermask ("Signing the Supermask: Keep, Hide, Invert", Koster, Grothe and
//! Rettinger, ICLR 2022; spec reparam-prune.md §5.5): the weights stay as initialized and only a
//! real score per weight trains; its sign and size choose +w, 0 or −w.

mod method;
mod reparam;

pub use method::SupermaskMethod;
pub use reparam::{SignedSupermask, threshold_for};
