//! The `[reparam]` table: which reparameterization, with its keys. Registering a method is one
//! arm of [`ReparamConfig`] and its line in [`ReparamConfig::build`].

use crate::compander::{CompanderConfig, CompanderMethod};
use crate::weight_norm::{WeightNormConfig, WeightNormMethod};
use crate::ReparamError;
use plasticity_core::{Method, MethodError, PlasticModel};
use serde::{Deserialize, Serialize};

/// `[reparam] method = "weight-norm" | "compander"` plus that method's keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "kebab-case")]
pub enum ReparamConfig {
    WeightNorm(WeightNormConfig),
    Compander(CompanderConfig),
}

impl ReparamConfig {
    pub fn name(&self) -> &'static str {
        match self {
            Self::WeightNorm(_) => "weight-norm",
            Self::Compander(_) => "compander",
        }
    }

    /// The method as the runner drives it.
    pub fn build<M: PlasticModel>(&self) -> Box<dyn Method<M>> {
        match self {
            Self::WeightNorm(c) => Box::new(WeightNormMethod::new(c.clone())),
            Self::Compander(c) => Box::new(CompanderMethod::new(c.clone())),
        }
    }
}

/// A [`MethodError`] from a [`ReparamError`] (its message names the table).
pub fn reparam_error(e: ReparamError) -> MethodError {
    MethodError(e.to_string())
}
