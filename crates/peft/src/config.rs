//! The `[peft]` table of a run: which method adapts the model, with peft's `modules_to_save`.
//! Registering a method is one arm of [`PeftMethod`] and its line in [`PeftMethod::build`].

use crate::method::Adapter;
use crate::triadapt::TriAdaptConfig;
use crate::{Ia3Config, LoraConfig, MissConfig, TauGateConfig};
use plasticity_core::{Method, PlasticModel};
use serde::{Deserialize, Serialize};

/// The `[peft]` table: the method with its options, and peft's `modules_to_save`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeftConfig {
    #[serde(flatten)]
    pub method: PeftMethod,
    /// Modules trained in full and saved with the adapter (a new classifier head, say), named as
    /// in `target_modules` lists: the module path or a `.`-suffix of it. Never adapter targets.
    /// See [`crate::saved`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modules_to_save: Vec<String>,
}

/// `[peft] method = "taugate" | "miss" | "lora" | "ia3" | "triadapt" | "frozen"` plus that method's
/// options.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "lowercase")]
pub enum PeftMethod {
    /// Per-neuron threshold and gain gates at the model's insertion points; the model is frozen.
    Taugate(TauGateConfig),
    Miss(MissConfig),
    Lora(LoraConfig),
    Ia3(Ia3Config),
    /// Triangular, rank-growing LoRA; `total_step` defaults to the run's optimizer steps.
    Triadapt(TriAdaptConfig),
    /// The model frozen whole; only `modules_to_save` train (a linear probe).
    Frozen(crate::frozen::FrozenConfig),
}

impl PeftMethod {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Taugate(_) => "taugate",
            Self::Miss(_) => "miss",
            Self::Lora(_) => "lora",
            Self::Ia3(_) => "ia3",
            Self::Triadapt(_) => "triadapt",
            Self::Frozen(_) => "frozen",
        }
    }
}

impl PeftConfig {
    /// The method as the runner drives it (`modules_to_save` are excluded from its targets).
    pub fn build<M: PlasticModel>(&self) -> Box<dyn Method<M>> {
        let saved = self.modules_to_save.clone();
        match &self.method {
            PeftMethod::Taugate(c) => Box::new(crate::taugate::TauGate::new(c.clone(), saved)),
            PeftMethod::Miss(c) => Box::new(Adapter::new(c.clone(), saved)),
            PeftMethod::Lora(c) => Box::new(Adapter::new(c.clone(), saved)),
            PeftMethod::Ia3(c) => Box::new(Adapter::new(c.clone(), saved)),
            PeftMethod::Triadapt(c) => Box::new(crate::triadapt::TriAdaptMethod::new(c.clone(), saved)),
            PeftMethod::Frozen(_) => Box::new(crate::frozen::Frozen::new(saved)),
        }
    }
}
