//! LoRA (Hu et al. 2021; peft `tuners/lora`), peft.md §4.1, on Burn's built-in `LoraAdapter`.

mod activation;
mod config;

pub use activation::{ActivationLora, LoraDropout};
pub use config::{LoraConfig, LoraInit};

use crate::adapter::{AdapterFactory, attach};
use crate::method::WeightSpace;
use crate::target::{Selection, TargetModules, select_targets};
use crate::{HfOptions, PeftError};
use burn::module::{Lora, LoraAdapter, Module, Param};
use burn::tensor::{Device, Distribution, Tensor};
use plasticity_core::{Hook, Mode, PlasticModel};
use std::path::Path;

const METHOD: &str = "LoRA";

impl LoraConfig {
    /// Freeze `model` and attach a LoRA adapter to each selected Linear weight. `dropout` must
    /// be 0: see [`apply_plastic`](Self::apply_plastic).
    pub fn apply<M: Module>(&self, model: M) -> Result<M, PeftError> {
        if self.dropout != 0.0 {
            return Err(PeftError::Config {
                method: METHOD,
                key: "dropout",
                value: self.dropout.to_string(),
                reason: "LoRA dropout acts on the layer input, but a Burn reparameterization sees only the weight; \
                         with plain target patterns use 0.0 (a PlasticModel with linear points supports it through \
                         LoraConfig::apply_plastic)"
                    .into(),
            });
        }
        self.apply_weights(model)
    }

    /// [`apply`](Self::apply) for a [`PlasticModel`], with dropout: when `dropout > 0` every
    /// adapted layer must be one of the model's linear points, and the returned [`LoraDropout`]
    /// gives the hook for training forwards (`Hooks::new(vec![Box::new(dropout.hook(&model))])`).
    pub fn apply_plastic<M: PlasticModel>(&self, model: M) -> Result<(M, Option<LoraDropout>), PeftError> {
        let model = self.apply_weights(model)?;
        let dropout = LoraDropout::of(self);
        if let Some(dropout) = &dropout {
            dropout.check(&model)?;
        }
        Ok((model, dropout))
    }

    fn apply_weights<M: Module>(&self, model: M) -> Result<M, PeftError> {
        let selection = self.check(&model)?;
        let burn_init = matches!(self.init, LoraInit::Burn | LoraInit::Gaussian);
        if burn_init && !self.use_rslora {
            // Burn's Lora: A ~ N(0, 1/r), B = 0, scale alpha / r, freezes every float param.
            return Ok(model.apply_lora(Lora::new(self.r, self.alpha).set_param_group(selection.group)));
        }
        Ok(attach(
            model,
            &selection,
            LoraFactory {
                r: self.r,
                init: self.init,
                scale: self.scale(),
            },
        ))
    }

    /// The checks of [`apply`](Self::apply), returning the selection.
    pub fn check<M: Module>(&self, model: &M) -> Result<Selection, PeftError> {
        PeftError::check_positive(METHOD, &[("r", self.r)])?;
        if !self.alpha.is_finite() {
            let value = self.alpha.to_string();
            return Err(PeftError::Config {
                method: METHOD,
                key: "alpha",
                value,
                reason: "must be finite".into(),
            });
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(PeftError::Config {
                method: METHOD,
                key: "dropout",
                value: self.dropout.to_string(),
                reason: "must be in [0, 1)".into(),
            });
        }
        select_targets(model, METHOD, &self.target_modules, self.exclude_modules.as_ref(), true)
    }
}

struct LoraFactory {
    r: usize,
    init: LoraInit,
    scale: f64,
}

impl AdapterFactory for LoraFactory {
    type Reparam = LoraAdapter;
    fn create(&mut self, _path: &str, [d_in, d_out]: [usize; 2], device: &Device) -> LoraAdapter {
        let distribution = match self.init {
            // kaiming_uniform_(a=√5) on peft's A [r, in]: bound = √(6/((1+5)·fan_in)) = 1/√d_in.
            LoraInit::Peft => {
                let bound = 1.0 / (d_in as f64).sqrt();
                Distribution::Uniform(-bound, bound)
            }
            LoraInit::Gaussian | LoraInit::Burn => Distribution::Normal(0.0, 1.0 / self.r as f64),
        };
        LoraAdapter {
            a: Param::from_tensor(Tensor::random([d_in, self.r], distribution, device)),
            b: Param::from_tensor(Tensor::zeros([self.r, d_out], device)),
            scale: self.scale,
        }
    }
}

/// Undo a merge: `W = W' − scale · A·B`. `merged: [d_in, d_out]` (Burn layout).
pub fn unmerge_lora(merged: Tensor<2>, adapter: &LoraAdapter) -> Tensor<2> {
    merged - adapter.delta()
}

impl WeightSpace for LoraConfig {
    const NAME: &'static str = "lora";
    fn targets(&mut self) -> (&mut TargetModules, &mut Option<TargetModules>) {
        (&mut self.target_modules, &mut self.exclude_modules)
    }
    fn attach_to<M: PlasticModel>(&self, model: M) -> Result<M, PeftError> {
        Ok(self.apply_plastic(model)?.0)
    }
    fn export_hf<M: Module>(&self, model: &M, dir: &Path, options: &HfOptions) -> Option<Result<(), PeftError>> {
        Some(crate::hf::export_lora_with(model, self, dir, options))
    }
    /// Activation-space LoRA at the linear points (unless `activation_space = false`), with
    /// peft's dropout on the branch in training forwards (which always computes it there).
    fn hook<M: PlasticModel>(&self, _model: &M, mode: Mode) -> Option<Box<dyn Hook>> {
        let dropout = match (mode, LoraDropout::of(self)) {
            (Mode::Train, Some(dropout)) => dropout.p,
            _ if self.activation_space => 0.0,
            _ => return None,
        };
        Some(Box::new(ActivationLora { dropout }))
    }
}
