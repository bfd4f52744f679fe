//! Shrink and perturb (Ash & Adams 2020; the loss-of-plasticity paper's baseline, spec
//! continual.md §3.2): after every optimizer step, Gaussian noise of standard deviation
//! `noise_std` is added to every trainable parameter, weights and biases (the "shrink" is the
//! optimizer's L2 decay, `[optimizer] weight_decay`: the paper's runs use SGD with 1e-4). The
//! noise comes from the device RNG, which each epoch reseeds from the run's seed, so a resumed
//! run draws what an uninterrupted one would.

use burn::module::{ModuleMapper, Param};
use burn::tensor::{Distribution, Tensor};
use plasticity_core::{Method, MethodModules, MethodResult, PlasticModel, StepContext};
use serde::{Deserialize, Serialize};

/// `[shrink_perturb]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShrinkPerturbConfig {
    /// σ of the noise added after each step. No default: the paper sweeps {1e-4, 1e-5, 1e-6}.
    pub noise_std: f64,
}

impl ShrinkPerturbConfig {
    /// Values serde cannot check; the error names the key.
    pub fn validate(&self) -> Result<(), (String, String)> {
        if !(self.noise_std.is_finite() && self.noise_std >= 0.0) {
            return Err(("shrink_perturb.noise_std".into(), format!("must be ≥ 0, got {}", self.noise_std)));
        }
        Ok(())
    }
}

pub struct ShrinkPerturb(pub ShrinkPerturbConfig);

/// Adds `N(0, σ²)` noise to every trainable float parameter.
struct Perturb(f64);

impl ModuleMapper for Perturb {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        if !tensor.is_require_grad() {
            return Param::from_mapped_value(id, tensor, mapper);
        }
        let noise = Tensor::<D>::random(tensor.shape(), Distribution::Normal(0.0, self.0), &tensor.device());
        let value = (tensor.detach() + noise).detach().require_grad();
        Param::from_mapped_value(id, value, mapper)
    }
}

impl<M: PlasticModel> Method<M> for ShrinkPerturb {
    fn name(&self) -> String {
        "shrink_perturb".into()
    }

    fn after_step(&mut self, model: M, _modules: &mut MethodModules, _cx: &mut StepContext) -> MethodResult<M> {
        if self.0.noise_std == 0.0 {
            return Ok(model);
        }
        Ok(model.map(&mut Perturb(self.0.noise_std)))
    }
}
