//! The optimizer of a training run: plasticity's own SGD/Adam/AdamW, or Burn's.
//!
//! **Why our own.** Burn's optimizers keep their state private: `ModuleOptimizer`'s parameter
//! map and `OptimizerRecord`'s fields are private, SGD's momentum has no accessor, and
//! `burn::optim::Optimizer::step` is not told which parameter it steps. Pruning (GraNet, RigL)
//! must zero the moments of pruned and regrown weights, and continual backprop must reset the
//! Adam state, per-element step included, of the units it replaces. So the update is driven
//! from our own optimize step: one `ModuleMapper` pass that knows each parameter's id and path,
//! keeps the state in an [`OptimizerState`] that methods reach between steps, and on CPU
//! backends updates each parameter in one fused loop over host memory instead of Burn's dozen
//! tensor ops. `implementation = "burn"` in `[optimizer]` selects Burn's own optimizers.

use super::classp::{classp_device, classp_host};
use super::config::{Implementation, OptimizerConfig};
use super::state::{OptimizerState, ParamState};
use super::update::{AdamRule, Step, adagrad_device, adagrad_host, adam_device, adam_host, sgd_device, sgd_host};
use crate::state::TensorState;
use burn::module::{Module, ModuleMapper, Param, ParamGroup, ParamId};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdaGradConfig, AdamConfig, AdamWConfig, GradientsParams, ModuleOptimizer, OptimizerRecord, SgdConfig};
use burn::tensor::{Bytes, Device, Tensor};
use std::collections::{BTreeMap, BTreeSet};

/// plasticity's SGD, Adam and AdamW with reachable per-element state.
#[derive(Clone, Debug)]
pub struct PlasticOptimizer {
    config: OptimizerConfig,
    /// Parameters stepped without weight decay.
    no_decay: BTreeSet<ParamId>,
    per_element_steps: bool,
    /// `None`: state and update in host memory (CPU backends); `Some`: tensor ops there.
    device: Option<Device>,
    state: OptimizerState,
}

impl PlasticOptimizer {
    /// `device` is where the state lives: `None` for host memory (CPU backends, the fused
    /// update), `Some(device)` for tensor ops on that device (GPU backends).
    pub fn new(config: OptimizerConfig, device: Option<Device>) -> Self {
        Self {
            config,
            no_decay: BTreeSet::new(),
            per_element_steps: false,
            device,
            state: OptimizerState::default(),
        }
    }

    /// Parameters that get no weight decay.
    pub fn with_no_decay(mut self, ids: impl IntoIterator<Item = ParamId>) -> Self {
        self.no_decay = ids.into_iter().collect();
        self
    }

    /// Keep Adam's step count per element (as continual backprop's AdamGnT), so that a reset
    /// element restarts its bias correction. Off by default: plain Adam keeps two moments.
    pub fn with_per_element_steps(mut self, on: bool) -> Self {
        self.per_element_steps = on;
        self
    }

    pub fn config(&self) -> &OptimizerConfig {
        &self.config
    }

    pub fn state(&self) -> &OptimizerState {
        &self.state
    }

    pub fn state_mut(&mut self) -> &mut OptimizerState {
        &mut self.state
    }

    /// One update of every parameter of `module` that has a gradient in `grads`.
    pub fn step<M: Module>(&mut self, lr: f64, module: M, mut grads: GradientsParams) -> M {
        let mut mapper = StepMapper {
            optim: self,
            lr,
            grads: &mut grads,
            path: Vec::new(),
        };
        module.map(&mut mapper)
    }
}

struct StepMapper<'a> {
    optim: &'a mut PlasticOptimizer,
    lr: f64,
    grads: &'a mut GradientsParams,
    path: Vec<String>,
}

impl ModuleMapper for StepMapper<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(grad) = self.grads.remove::<D>(id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let require_grad = tensor.is_require_grad();
        let inner = tensor.inner();
        let updated = self.optim.apply(id, self.path.join("."), self.lr, inner, grad);
        let mut updated = Tensor::from_inner(updated);
        if require_grad {
            updated = updated.require_grad();
        }
        Param::from_mapped_value(id, updated, mapper)
    }
}

impl PlasticOptimizer {
    /// The new value of parameter `id` (at `path`) from its value and gradient, both inner
    /// (non-autodiff) tensors.
    fn apply<const D: usize>(&mut self, id: ParamId, path: String, lr: f64, value: Tensor<D>, grad: Tensor<D>) -> Tensor<D> {
        let weight_decay = match self.no_decay.contains(&id) {
            true => 0.0,
            false => self.config.common().weight_decay,
        };
        let per_element_steps = self.per_element_steps;
        let shape = value.dims().to_vec();
        let state = self.state.params.entry(id).or_insert_with(|| ParamState {
            path,
            shape,
            step: 0,
            buffers: BTreeMap::new(),
        });
        let s = Step {
            lr,
            weight_decay,
            state,
            per_element_steps,
        };
        if self.device.is_some() {
            return match &self.config {
                OptimizerConfig::Sgd(c) => sgd_device(c, value, grad, s),
                OptimizerConfig::Adam(c) => adam_device(AdamRule::adam(c), value, grad, s),
                OptimizerConfig::Adamw(c) => adam_device(AdamRule::adamw(c), value, grad, s),
                OptimizerConfig::Adagrad(c) => adagrad_device(c, value, grad, s),
                OptimizerConfig::Classp(c) => classp_device(c, value, grad, s),
            };
        }
        let device = value.device();
        let mut data = value.into_data().convert::<f32>();
        let grad = grad.into_data().convert::<f32>();
        let (Ok(p), Ok(g)) = (data.as_mut_slice::<f32>(), grad.as_slice::<f32>()) else {
            unreachable!("converted to f32 above")
        };
        match &self.config {
            OptimizerConfig::Sgd(c) => sgd_host(c, p, g, s),
            OptimizerConfig::Adam(c) => adam_host(AdamRule::adam(c), p, g, s),
            OptimizerConfig::Adamw(c) => adam_host(AdamRule::adamw(c), p, g, s),
            OptimizerConfig::Adagrad(c) => adagrad_host(c, p, g, s),
            OptimizerConfig::Classp(c) => classp_host(c, p, g, s),
        }
        Tensor::from_data(data, &device)
    }
}

/// The optimizer a run steps with.
#[derive(Clone)]
pub enum Optimizer {
    Plasticity(PlasticOptimizer),
    /// A Burn optimizer (of the configured kind and keys, or any `ModuleOptimizer`); its state
    /// is private.
    Burn(ModuleOptimizer),
}

/// The no-decay group of Burn's optimizers and ours: biases and norm scales/shifts by path.
pub const NO_DECAY_PATTERN: &str = r"(^|.*\.)(bias|gamma|beta)$";

impl Optimizer {
    /// The optimizer `config` describes. `no_decay`: the parameters stepped without weight
    /// decay (unless `decay_bias_and_norm`); `host`: CPU backend (fused host update);
    /// `device`: where state tensors live otherwise.
    pub fn build(config: &OptimizerConfig, no_decay: Vec<ParamId>, host: bool, device: &Device) -> Self {
        let common = config.common();
        let no_decay = match common.decay_bias_and_norm {
            true => Vec::new(),
            false => no_decay,
        };
        let burn = match common.implementation {
            Implementation::Burn => burn_optimizer(config, no_decay.clone()),
            Implementation::Plasticity => None,
        };
        match burn {
            Some(optim) => Self::Burn(optim),
            None => Self::Plasticity(PlasticOptimizer::new(config.clone(), (!host).then(|| device.clone())).with_no_decay(no_decay)),
        }
    }

    /// One update of `module` with `grads` at learning rate `lr`.
    pub fn step<M: Module>(&mut self, lr: f64, module: M, grads: GradientsParams) -> M {
        match self {
            Self::Plasticity(o) => o.step(lr, module, grads),
            Self::Burn(optim) => optim.step(lr, module, grads),
        }
    }

    /// The reachable state (plasticity's optimizers only).
    pub fn state_mut(&mut self) -> Option<&mut OptimizerState> {
        match self {
            Self::Plasticity(o) => Some(o.state_mut()),
            Self::Burn(_) => None,
        }
    }

    pub fn state(&self) -> Option<&OptimizerState> {
        match self {
            Self::Plasticity(o) => Some(o.state()),
            Self::Burn(_) => None,
        }
    }

    /// See [`PlasticOptimizer::with_per_element_steps`]; no effect on Burn's optimizers.
    pub fn with_per_element_steps(self, on: bool) -> Self {
        match self {
            Self::Plasticity(o) => Self::Plasticity(o.with_per_element_steps(on)),
            other => other,
        }
    }

    /// The state as checkpoint bytes (burnpack).
    pub fn to_bytes(&self) -> Result<Bytes, String> {
        match self {
            Self::Plasticity(o) => o.state.to_tensor_state(o.config.name()).to_bytes(),
            Self::Burn(optim) => optim.to_record().into_bytes().map_err(|e| e.to_string()),
        }
    }

    /// Loads what [`to_bytes`](Self::to_bytes) wrote. `ids` maps the trained module's
    /// parameter paths to their ids.
    pub fn load_bytes(&mut self, bytes: Vec<u8>, ids: &BTreeMap<String, ParamId>) -> Result<(), String> {
        match self {
            Self::Plasticity(o) => {
                let state = TensorState::from_bytes(bytes)?;
                o.state = OptimizerState::from_tensor_state(state, o.config.name(), ids, o.device.as_ref())?;
            }
            Self::Burn(optim) => {
                let record = OptimizerRecord::from_bytes(Bytes::from_bytes_vec(bytes)).map_err(|e| e.to_string())?;
                *optim = optim.clone().load_record(record);
            }
        }
        Ok(())
    }
}

/// Burn's optimizer for `config`, with a zero-decay group for `no_decay`; `None` for CLASSP,
/// which Burn does not have (`validate` refuses `implementation = "burn"` for it).
fn burn_optimizer(config: &OptimizerConfig, no_decay: Vec<ParamId>) -> Option<ModuleOptimizer> {
    let wd = config.common().weight_decay;
    let l2 = |wd: f32| (wd > 0.0).then(|| WeightDecayConfig::new(wd));
    Some(match config {
        OptimizerConfig::Sgd(c) => grouped(wd, no_decay, |wd| {
            let momentum = (c.momentum > 0.0).then(|| {
                MomentumConfig::new()
                    .with_momentum(c.momentum)
                    .with_dampening(c.dampening)
                    .with_nesterov(c.nesterov)
            });
            SgdConfig::new().with_weight_decay(l2(wd)).with_momentum(momentum).build()
        }),
        OptimizerConfig::Adam(c) => grouped(wd, no_decay, |wd| {
            AdamConfig::new()
                .with_beta_1(c.beta1)
                .with_beta_2(c.beta2)
                .with_epsilon(c.eps)
                .with_weight_decay(l2(wd))
                .build()
        }),
        OptimizerConfig::Adamw(c) => grouped(wd, no_decay, |wd| {
            AdamWConfig::new()
                .with_beta_1(c.beta1)
                .with_beta_2(c.beta2)
                .with_epsilon(c.eps)
                .with_weight_decay(wd)
                .with_cautious_weight_decay(c.cautious_weight_decay)
                .build()
        }),
        OptimizerConfig::Adagrad(c) => grouped(wd, no_decay, |wd| {
            AdaGradConfig::new()
                .with_lr_decay(c.lr_decay)
                .with_epsilon(c.eps)
                .with_weight_decay(l2(wd))
                .build()
        }),
        OptimizerConfig::Classp(_) => return None,
    })
}

/// `make(wd)` for every parameter, and `make(0)` for the `no_decay` group when there is decay.
fn grouped<O: burn::optim::Optimizer>(wd: f32, no_decay: Vec<ParamId>, make: impl Fn(f32) -> O) -> ModuleOptimizer {
    let optim: ModuleOptimizer = make(wd).into();
    match wd > 0.0 && !no_decay.is_empty() {
        true => optim.with_group(ParamGroup::from_ids(no_decay), make(0.0), None),
        false => optim,
    }
}
