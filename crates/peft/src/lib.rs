//! Parameter-efficient fine-tuning for any Burn model: MiSS/Bone/Bat, LoRA, IA3 and TriAdaptLoRA as
//! weight reparameterizations (Burn's `Reparameterization` API: the layer code is unchanged and
//! `Param::val()` returns the adapted weight), and TauGate as an activation hook. Each is a
//! [`plasticity_core::Method`], built from the `[peft]` table by [`PeftConfig::build`].
//!
//! Every weight-space method follows the same path: a serde config (`deny_unknown_fields`), peft's
//! target selection ([`target::select_targets`], checked before anything is attached), then
//! [`adapter::attach`], which freezes every base parameter and attaches the method's adapter.
//! Merge with Burn's `Module::materialize()`; each method offers `unmerge` on plain tensors.
//!
//! Layout: Burn stores a Linear weight as `[d_in, d_out]`, the transpose of PyTorch/peft. Every
//! doc comment says which layout its formula uses. Specification: `shared/specs/peft.md`.

pub mod adapter;
pub mod config;
pub mod error;
pub mod frozen;
pub mod hf;
pub mod ia3;
pub mod lora;
pub mod method;
pub mod miss;
pub mod saved;
pub mod target;
pub mod taugate;
pub mod triadapt;

pub use adapter::{adapter_count, adapter_params, base_params};
pub use config::{PeftConfig, PeftMethod};
pub use error::PeftError;
pub use hf::{HfOptions, export_base_pytorch, export_lora, export_miss, import_base_pytorch, import_lora, import_miss};
pub use ia3::{Ia3, Ia3Config};
pub use lora::{ActivationLora, LoraConfig, LoraDropout, LoraInit};
pub use miss::{MissBat, MissBone, MissConfig, MissMini, MissVariant};
pub use saved::{SavedParam, saved_params, unfreeze_saved};
pub use target::{Selection, TargetModules, resolve_external, select_targets};
pub use taugate::{GateSet, NeuronGate, TauGateConfig};
pub use triadapt::{RankAllocator, RankGrowth, TriAdapt, TriAdaptConfig};
