//! LoRA dropout (peft's `lora_dropout`) through a model's linear points.
//!
//! peft computes `y = x·W + b + dropout(x)·A·B·s` (Burn layout): the dropout acts on the adapter
//! branch's *input*. A Burn reparameterization only sees the weight, so the adapted layer computes
//! `x·(W + A·B·s) + b`. A model that lists the layer in
//! [`PlasticModel::linear_points`] computes it through [`Hooks::linear`](plasticity_core::Hooks::linear), where
//! [`LoraDropoutHook`] adds the difference:
//!
//! `y ← y + (dropout(x) − x)·A·B·s`, with `dropout(x) − x = x ⊙ (m / (1 − p) − 1)`, `m ~ Bernoulli(1 − p)`,
//!
//! which is peft's function exactly (up to rounding), with gradients to A and B through the
//! dropped input only. The hook is used for training forwards only; evaluation, merge and the
//! adapter files are those of plain LoRA. Masks draw from the device RNG (the runner reseeds it
//! per epoch).

use super::config::LoraConfig;
use crate::PeftError;
use crate::adapter::adapter_matrices;
use burn::module::Module;
use burn::tensor::{Distribution, Tensor};
use plasticity_core::{Hook, PlasticModel};
use std::collections::BTreeMap;

const METHOD: &str = "LoRA";

/// Dropout on the LoRA branch of the layers a model exposes as linear points.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LoraDropout {
    /// Drop probability, in `[0, 1)`.
    pub p: f64,
    /// The adapters' scale `s` (`alpha / r`, or `alpha / √r` with rsLoRA).
    pub scale: f64,
}

impl LoraDropout {
    /// The dropout of `config` (`None` when `config.dropout` is 0).
    pub fn of(config: &LoraConfig) -> Option<Self> {
        (config.dropout != 0.0).then(|| Self {
            p: config.dropout,
            scale: config.scale(),
        })
    }

    /// Checks that every LoRA-adapted module of `model` is one of its linear points.
    pub fn check<M: PlasticModel>(&self, model: &M) -> Result<(), PeftError> {
        let points = model.linear_points();
        match branches(model).into_keys().find(|m| !points.contains(m)) {
            None => Ok(()),
            Some(module) => Err(PeftError::Config {
                method: METHOD,
                key: "dropout",
                value: self.p.to_string(),
                reason: format!(
                    "LoRA dropout acts on the layer's input, which a Burn reparameterization does not see; module \
                     `{module}` is not one of the model's linear points {points:?} (PlasticModel::linear_points). \
                     Use 0.0, or compute that layer with Hooks::linear"
                ),
            }),
        }
    }

    /// The hook for one training forward of `model`: it holds the adapters' current `A`, `B`.
    pub fn hook<M: PlasticModel>(&self, model: &M) -> LoraDropoutHook {
        let mut found = branches(model);
        LoraDropoutHook {
            dropout: *self,
            branches: model.linear_points().iter().map(|p| found.remove(p)).collect(),
        }
    }
}

/// A [`Hook`] adding `(dropout(x) − x)·A·B·s` after each adapted linear point.
pub struct LoraDropoutHook {
    dropout: LoraDropout,
    /// `(A [d_in, r], B [r, d_out])` per linear point, `None` where the layer is not adapted.
    branches: Vec<Option<(Tensor<2>, Tensor<2>)>>,
}

impl Hook for LoraDropoutHook {
    fn linear(&self, point: usize, input: &Tensor<2>, output: Tensor<2>) -> Tensor<2> {
        let Some(Some((a, b))) = self.branches.get(point) else {
            return output;
        };
        let keep = 1.0 - self.dropout.p;
        let mask = input.random_like(Distribution::Bernoulli(keep));
        let dropped_minus_input = input.clone() * (mask.div_scalar(keep) - 1.0);
        output
            + dropped_minus_input
                .matmul(a.clone())
                .matmul(b.clone())
                .mul_scalar(self.dropout.scale)
    }
}

/// Burn's `LoraAdapter` factors by module path: `(a [d_in, r], b [r, d_out])`.
fn branches<M: Module>(model: &M) -> BTreeMap<String, (Tensor<2>, Tensor<2>)> {
    let mut found: BTreeMap<String, (Option<Tensor<2>>, Option<Tensor<2>>)> = BTreeMap::new();
    for (adapter, _, value) in adapter_matrices(model) {
        if adapter.kind != "Struct:LoraAdapter" {
            continue;
        }
        let entry = found.entry(crate::adapter::module_of(&adapter.base).to_string()).or_default();
        match adapter.field.as_str() {
            "a" => entry.0 = Some(value),
            "b" => entry.1 = Some(value),
            _ => {}
        }
    }
    found
        .into_iter()
        .filter_map(|(module, (a, b))| Some((module, (a?, b?))))
        .collect()
}
