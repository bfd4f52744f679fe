//! `[reparam] method = "compander"` (reparam-prune.md §1). The paper's formula and defaults are
//! not public: the form and every default here are ours, documented in docs/reparam.md.

use super::function::{CompanderForm, Companding};
use crate::ReparamError;
use plasticity_peft::TargetModules;
use serde::{Deserialize, Serialize};

/// The weight compander `W = s·φ(w/s; θ)` on the targeted weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompanderConfig {
    /// Modules whose weight is reparameterized (peft's rules). Default: every Linear and
    /// convolution weight, the output layer included.
    #[serde(default)]
    pub target_modules: Option<TargetModules>,
    #[serde(default)]
    pub exclude_modules: Option<TargetModules>,
    /// The companding function φ: `"mu-law"` (default), `"saturating"` or `"power"`.
    #[serde(default)]
    pub form: CompanderForm,
    /// θ of the mu-law and saturating forms (default 1.0 and 3.0). Must be > 0.
    #[serde(default)]
    pub gamma: Option<f64>,
    /// θ of every form (default 0.5, 1.5 and 1/16). Must be > 0.
    #[serde(default)]
    pub beta: Option<f64>,
    /// θ of the power form (default 0.5). Must be in (0, 1).
    #[serde(default)]
    pub alpha: Option<f64>,
    /// Learn θ: per-layer trainable scalars, kept positive (stored as `ln θ`). Default false.
    #[serde(default)]
    pub learn: bool,
    /// The optimizer's weight decay acts on the raw weights `w`, as on any parameter. Default
    /// true. With false, `w` is left out of the optimizer's decay (use
    /// `effective_weight_decay` to decay the companded weights instead).
    #[serde(default = "yes")]
    pub decay_raw: bool,
    /// λ of a loss term `λ/2·Σ W²` on the companded weights `W = f(w)`. Default 0.
    #[serde(default)]
    pub effective_weight_decay: f64,
}

fn yes() -> bool {
    true
}

impl Default for CompanderConfig {
    fn default() -> Self {
        Self {
            target_modules: None,
            exclude_modules: None,
            form: CompanderForm::default(),
            gamma: None,
            beta: None,
            alpha: None,
            learn: false,
            decay_raw: true,
            effective_weight_decay: 0.0,
        }
    }
}

impl CompanderConfig {
    /// θ of the configured form, defaults filled in (see [`CompanderConfig::theta_of`]).
    pub fn theta(&self) -> Result<Vec<f64>, ReparamError> {
        self.theta_of(self.form.function().as_ref())
    }

    /// θ of `function`, in its order: `gamma`, `beta` and `alpha` override the parameters of
    /// those names, the others take the function's defaults. A key the function does not have,
    /// or a value out of range (every θ > 0, `alpha` < 1), is an error naming the key.
    pub fn theta_of(&self, function: &dyn Companding) -> Result<Vec<f64>, ReparamError> {
        let parameters = function.parameters();
        let names: Vec<&str> = parameters.iter().map(|(n, _)| *n).collect();
        let keys = [("gamma", self.gamma), ("beta", self.beta), ("alpha", self.alpha)];
        for (key, value) in keys {
            if let Some(value) = value
                && !names.contains(&key)
            {
                return Err(ReparamError::Config {
                    key,
                    value: value.to_string(),
                    reason: format!("the {} form has no `{key}` (its keys: {names:?})", function.name()),
                });
            }
        }
        let mut theta = Vec::new();
        for (name, default) in parameters {
            let set = keys.iter().find(|(k, _)| *k == name);
            let value = set.and_then(|(_, v)| *v).unwrap_or(default);
            let ok = value.is_finite() && value > 0.0 && (name != "alpha" || value < 1.0);
            if !ok {
                let range = if name == "alpha" { "in (0, 1)" } else { "> 0" };
                return Err(ReparamError::Config {
                    key: set.map_or("form", |(k, _)| *k),
                    value: value.to_string(),
                    reason: format!("{name} must be {range}"),
                });
            }
            theta.push(value);
        }
        if !(self.effective_weight_decay.is_finite() && self.effective_weight_decay >= 0.0) {
            return Err(ReparamError::Config {
                key: "effective_weight_decay",
                value: self.effective_weight_decay.to_string(),
                reason: "must be ≥ 0".into(),
            });
        }
        Ok(theta)
    }
}
