//! The weight compander as a [`Method`]: attached to the targeted weights with `w` initialised
//! through `φ⁻¹` (so that `f(w)` starts at the layer's usual init), `θ` out of weight decay and
//! in its own census rows, the layer scales kept as state, and an optional decay on the
//! companded weights.

use super::config::CompanderConfig;
use super::function::Companding;
use super::reparam::{Compander, compand};
use crate::target::select;
use crate::{ReparamError, config::reparam_error};
use burn::module::{Param, ParamGroup, Reparameterization, Reparameterizer};
use burn::tensor::{Tensor, TensorData};
use plasticity_core::{
    AttachContext, Export, Method, MethodModules, MethodResult, ParamInfo, PlasticModel, TensorState, reparameterized,
    walk_params,
};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

const NAME: &str = "compander";

/// Attaches [`Compander`]s to the weights of `group`, rewriting each `w` as `s·φ⁻¹(w/s)`.
struct AttachCompander {
    group: ParamGroup,
    theta: Vec<f64>,
    learn: bool,
    function: Arc<dyn Companding>,
    /// Scales already known (restored from a checkpoint); the others are measured and added.
    scales: BTreeMap<String, f64>,
    failure: Option<String>,
}

/// Burn takes a reparameterizer by value; this one is lent, so that the scales it measured come
/// back.
struct Lent<'a>(&'a mut AttachCompander);

impl Reparameterizer for Lent<'_> {
    type Reparam = Compander;

    fn reparameterize<const D: usize>(&mut self, path: &str, param: Param<Tensor<D>>) -> (Param<Tensor<D>>, Option<Compander>) {
        self.0.reparameterize(path, param)
    }
}

impl AttachCompander {
    fn reparameterize<const D: usize>(&mut self, path: &str, param: Param<Tensor<D>>) -> (Param<Tensor<D>>, Option<Compander>) {
        if !self.group.matches(&param.id, Some(path)) {
            return (param, None);
        }
        let value = param.base();
        let device = value.device();
        let shape = value.dims();
        let values = match value.into_data().convert::<f32>().try_into_vec::<f32>() {
            Ok(v) => v,
            Err(e) => {
                self.failure = Some(format!("{path}: {e:?}"));
                return (param, None);
            }
        };
        let scale = *self.scales.entry(path.to_string()).or_insert_with(|| {
            let mean_square = values.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>() / values.len().max(1) as f64;
            mean_square.sqrt().max(f64::MIN_POSITIVE)
        });
        let raw: Vec<f32> = values
            .iter()
            .map(|&v| (scale * self.function.inverse(f64::from(v) / scale, &self.theta)) as f32)
            .collect();
        let raw = Tensor::<D>::from_data(TensorData::new(raw, shape), &device);
        // Trainable even where another method froze the model (as weight norm's v).
        let param = param.map(|_| raw.detach()).set_require_grad(true);
        let log_theta: Vec<f32> = self.theta.iter().map(|t| t.ln() as f32).collect();
        let k = log_theta.len();
        let log_theta = Tensor::<1>::from_data(TensorData::new(log_theta, [k]), &device);
        let compander = Compander {
            log_theta: Param::from_tensor(log_theta).set_require_grad(self.learn),
            scale,
            function: self.function.clone(),
        };
        (param, Some(compander))
    }
}

/// The weight compander with its config, its companding function and the layer scales.
pub struct CompanderMethod {
    config: CompanderConfig,
    function: Arc<dyn Companding>,
    /// Each reparameterized weight's scale `s`, by path.
    scales: BTreeMap<String, f64>,
}

impl CompanderMethod {
    /// The compander `config` describes (its `form`).
    pub fn new(config: CompanderConfig) -> Self {
        let function = config.form.function();
        Self::with_function(config, function)
    }

    /// A compander with a companding function of your own (the config's `form` is ignored;
    /// `gamma`, `beta`, `alpha` set the function's parameters of those names).
    pub fn with_function(config: CompanderConfig, function: Arc<dyn Companding>) -> Self {
        Self {
            config,
            function,
            scales: BTreeMap::new(),
        }
    }
}

fn is_theta(param: &ParamInfo) -> bool {
    param.adapter.as_ref().is_some_and(|a| a.name == Compander::NAME)
}

impl<M: PlasticModel> Method<M> for CompanderMethod {
    fn name(&self) -> String {
        NAME.into()
    }

    fn restore(&mut self, state: TensorState) -> MethodResult<()> {
        if let Some(scales) = state.meta.get("scales") {
            self.scales = serde_json::from_value(scales.clone()).map_err(|e| format!("reparam (compander): saved scales: {e}"))?;
        }
        Ok(())
    }

    fn attach(&mut self, model: M, _cx: &AttachContext) -> MethodResult<M> {
        let c = &self.config;
        let theta = c.theta_of(self.function.as_ref()).map_err(reparam_error)?;
        let selection =
            select(&model, NAME, c.target_modules.as_ref(), c.exclude_modules.as_ref()).map_err(reparam_error)?;
        let mut attach = AttachCompander {
            group: selection.group,
            theta,
            learn: c.learn,
            function: self.function.clone(),
            scales: std::mem::take(&mut self.scales),
            failure: None,
        };
        let model = model.apply_reparameterization(Lent(&mut attach));
        if let Some(failure) = attach.failure {
            return Err(reparam_error(ReparamError::Init(failure)));
        }
        self.scales = attach.scales;
        Ok(model)
    }

    /// `effective_weight_decay/2 · Σ W²` over the companded weights `W = f(w)`, when set.
    fn penalty(&self, model: &M, _modules: &MethodModules) -> Option<Tensor<1>> {
        let lambda = self.config.effective_weight_decay;
        if lambda == 0.0 {
            return None;
        }
        let function = &self.function;
        // Burn visits a weight's base, then its reparameterization's parameters.
        let mut base: Option<(String, Tensor<1>)> = None;
        let mut total: Option<Tensor<1>> = None;
        walk_params(model, true, |info, value| {
            let Some(value) = value.and_then(|v| v.flatten()) else { return };
            match &info.adapter {
                None if info.reparameterization.as_deref() == Some(Compander::NAME) => {
                    base = Some((info.path.clone(), value));
                }
                Some(a) if a.name == Compander::NAME => {
                    let Some((path, w)) = base.take().filter(|(p, _)| *p == a.base) else { return };
                    let scale = self.scales.get(&path).copied().unwrap_or(1.0);
                    let square = compand(function.as_ref(), scale, w, value).powi_scalar(2).sum();
                    total = Some(match total.take() {
                        Some(t) => t + square,
                        None => square,
                    });
                }
                _ => {}
            }
        });
        total.map(|t| t.mul_scalar(lambda / 2.0))
    }

    fn state(&self) -> TensorState {
        TensorState {
            meta: serde_json::json!({"scales": self.scales}),
            ..Default::default()
        }
    }

    /// PyTorch has no compander: `plasticity export` bakes it into `base.safetensors`.
    fn export(&self, model: &M, _out: &Path) -> MethodResult<Export> {
        Ok(Export {
            written: Vec::new(),
            bake: reparameterized(model, Compander::NAME),
        })
    }

    fn role(&self, param: &ParamInfo) -> Option<String> {
        is_theta(param).then(|| "compander θ".into())
    }

    /// θ is never decayed; the raw weights are not when `decay_raw = false`.
    fn no_decay(&self, param: &ParamInfo) -> bool {
        is_theta(param) || (!self.config.decay_raw && param.reparameterization.as_deref() == Some(Compander::NAME))
    }
}
