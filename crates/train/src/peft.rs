//! The `[peft]` table: which method adapts the model, attached before training (after
//! `init_from` loads the base run's weights, before a resumed checkpoint is loaded).

use crate::error::{Result, TrainError};
use burn::tensor::Device;
use plasticity_models::PlasticModel;
use plasticity_peft::{GateSet, Ia3Config, LoraConfig, MissConfig, TauGateConfig};
use serde::{Deserialize, Serialize};

/// `[peft] method = "taugate" | "miss" | "lora" | "ia3"` plus that method's options.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "lowercase")]
pub enum PeftMethod {
    /// Per-neuron threshold and gain gates at the model's insertion points; the model is frozen.
    Taugate(TauGateConfig),
    Miss(MissConfig),
    Lora(LoraConfig),
    Ia3(Ia3Config),
}

impl PeftMethod {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Taugate(_) => "taugate",
            Self::Miss(_) => "miss",
            Self::Lora(_) => "lora",
            Self::Ia3(_) => "ia3",
        }
    }

    /// TauGate's config, when that is the method.
    pub fn taugate(&self) -> Option<&TauGateConfig> {
        match self {
            Self::Taugate(c) => Some(c),
            _ => None,
        }
    }
}

fn peft_error(method: &PeftMethod, e: impl std::fmt::Display) -> TrainError {
    TrainError::config(format!("peft ({})", method.name()), e.to_string())
}

/// Attaches the method to `model` (created on `device`). Weight-space methods freeze the base
/// and reparameterize the targeted weights; TauGate freezes the whole model and returns gates.
pub fn attach<M: PlasticModel>(model: M, method: &PeftMethod, device: &Device) -> Result<(M, Option<GateSet>)> {
    match method {
        PeftMethod::Taugate(c) => {
            c.validate().map_err(|e| peft_error(method, e))?;
            if model.insertion_points().is_empty() {
                return Err(peft_error(method, "the model exposes no insertion points (PlasticModel::insertion_points)"));
            }
            let gates = c.init_for(&model, device).map_err(|e| peft_error(method, e))?;
            Ok((model.no_grad(), Some(gates)))
        }
        PeftMethod::Miss(c) => Ok((c.apply(model).map_err(|e| peft_error(method, e))?, None)),
        PeftMethod::Lora(c) => Ok((c.apply(model).map_err(|e| peft_error(method, e))?, None)),
        PeftMethod::Ia3(c) => Ok((c.apply(model).map_err(|e| peft_error(method, e))?, None)),
    }
}
