//! LoRA computed in activation space at a model's linear points, and peft's LoRA dropout.
//!
//! Burn's [`LoraAdapter`](burn::module::LoraAdapter) makes an adapted layer compute
//! `x·(W + s·A·B) + b`: the forward builds the `[d_in, d_out]` weight, and the backward forms a
//! weight-shaped gradient for it before reducing to `A` and `B`. peft never does: it computes
//!
//! `y = x·W + b + s·(dropout(x)·A)·B`   (Burn layout: `x: [n, d_in]`, `W: [d_in, d_out]`,
//! `A: [d_in, r]`, `B: [r, d_out]`),
//!
//! so the frozen `W` only carries the gradient to `x`, and `A`, `B` get theirs through two
//! rank-`r` products. [`ActivationLora`] computes this at every linear point whose weight carries a
//! LoRA adapter (through [`Hook::replace_linear`]); other layers and models without linear points
//! keep Burn's weight-space form, which computes the same function. The parameters, their paths,
//! `merge` and every file format are those of the adapter on the weight: only the computation
//! moves.
//!
//! **Dropout** (`p > 0`, training forwards only) acts on the branch's input as in peft:
//! `dropout(x) = x ⊙ m / (1 − p)`, `m ~ Bernoulli(1 − p)` from the device RNG (the runner reseeds
//! it per epoch), gradients to `A` and `B` through the dropped input only. It needs the input, so
//! every adapted layer must be a linear point ([`LoraDropout::check`]).

use super::config::LoraConfig;
use crate::PeftError;
use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Distribution, Tensor};
use plasticity_core::{Hook, PlasticModel};

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
        match adapted_modules(model).into_iter().find(|m| !points.contains(m)) {
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

    /// The hook for one training forward: activation-space LoRA with this dropout.
    pub fn hook(&self) -> ActivationLora {
        ActivationLora { dropout: self.p }
    }
}

/// A [`Hook`] computing every LoRA-adapted linear point as `x·W + b + s·(dropout(x)·A)·B`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ActivationLora {
    /// The branch's dropout probability; 0 for none (evaluation).
    pub dropout: f64,
}

impl Hook for ActivationLora {
    fn replace_linear(&self, _point: usize, layer: &Linear, x: &Tensor<2>) -> Option<Tensor<2>> {
        let adapter = layer.weight.adapter()?;
        let mut y = x.clone().matmul(layer.weight.base());
        if let Some(bias) = &layer.bias {
            y = y + bias.val().unsqueeze_dim(0);
        }
        let branch_input = match self.dropout {
            0.0 => x.clone(),
            p => {
                let keep = 1.0 - p;
                x.clone() * x.random_like(Distribution::Bernoulli(keep)).div_scalar(keep)
            }
        };
        let branch = branch_input.matmul(adapter.a.val()).matmul(adapter.b.val());
        Some(y + branch.mul_scalar(adapter.scale))
    }
}

/// The modules whose weight carries a LoRA adapter, in model order.
fn adapted_modules<M: Module>(model: &M) -> Vec<String> {
    crate::adapter::adapter_params(model)
        .into_iter()
        .filter_map(|p| {
            let adapter = p.adapter?;
            (adapter.kind == "Struct:LoraAdapter" && adapter.field == "a" && !adapter.nested)
                .then(|| crate::adapter::module_of(&adapter.base).to_string())
        })
        .collect()
}
