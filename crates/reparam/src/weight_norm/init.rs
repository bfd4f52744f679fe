//! Data-dependent initialization of weight-normalized layers (Salimans & Kingma 2016, §3;
//! reparam-prune.md §2.2, openai/weightnorm): one batch goes through the network layer by layer;
//! for each layer, with `t = v·x / ‖v‖` its normalized pre-activation (over the batch, and the
//! positions of a feature map), `g ← init_scale / √(var[t] + 1e-10)` and `b ← −mean[t]·g`, so
//! the layer's pre-activations have mean 0 and standard deviation `init_scale`; the next layer is
//! then initialized on these outputs.
//!
//! A layer's pre-activation is read where the model exposes it: the output of a linear point
//! (`Hooks::linear`), or the pre-activation of an insertion point (`Hooks::activate*`: a
//! convolution's feature map, unit = channel). From the current `g` and `b`, `t = (z − b) / g`.
//! `v` keeps its initialization (only its direction matters).

use super::reparam::WeightNorm;
use crate::ReparamError;
use burn::tensor::Tensor;
use plasticity_core::{Hook, Hooks, ParamValue, PlasticModel, Units, set_params, walk_params};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Where a layer's pre-activation is read.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Probe {
    Linear(usize),
    Insertion(usize),
}

/// Records the order in which the forward pass reaches linear and insertion points, and the
/// pre-activation `[n, units, positions]` of the point it watches.
struct Recorder {
    watch: Option<Probe>,
    order: Arc<Mutex<Vec<Probe>>>,
    seen: Arc<Mutex<Option<Tensor<3>>>>,
}

impl Hook for Recorder {
    fn activate(&self, point: usize, z: &Units, h: Tensor<3>) -> Tensor<3> {
        self.record(Probe::Insertion(point), || z.values.clone());
        h
    }
    fn linear(&self, point: usize, _x: &Tensor<2>, y: Tensor<2>) -> Tensor<2> {
        let [n, d] = y.dims();
        self.record(Probe::Linear(point), || y.clone().reshape([n, d, 1]));
        y
    }
}

impl Recorder {
    fn record(&self, probe: Probe, z: impl FnOnce() -> Tensor<3>) {
        if let Ok(mut order) = self.order.lock() {
            order.push(probe.clone());
        }
        if self.watch.as_ref() == Some(&probe)
            && let Ok(mut seen) = self.seen.lock()
        {
            *seen = Some(z().detach());
        }
    }
}

/// Runs `model` on `input` and returns the points reached in order, and the watched one's
/// pre-activation.
fn forward<M: PlasticModel>(model: &M, input: M::Input, watch: Option<Probe>) -> (Vec<Probe>, Option<Tensor<3>>) {
    let order = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::new(Mutex::new(None));
    let hooks = Hooks::new(vec![Box::new(Recorder {
        watch,
        order: order.clone(),
        seen: seen.clone(),
    })]);
    let _ = model.forward_hooked(input, &hooks);
    drop(hooks);
    let order = order.lock().map(|o| o.clone()).unwrap_or_default();
    let seen = seen.lock().ok().and_then(|mut s| s.take());
    (order, seen)
}

/// The data-dependent init of the weight-normalized `modules` of `model` on one batch.
pub fn data_dependent_init<M: PlasticModel>(
    model: M,
    input: M::Input,
    modules: &[String],
    init_scale: f64,
) -> Result<M, ReparamError> {
    let linear = model.linear_points();
    let insertion: Vec<String> = model.insertion_points().into_iter().map(|p| p.name).collect();
    let probe_of = |module: &str| {
        linear
            .iter()
            .position(|m| m == module)
            .map(Probe::Linear)
            .or_else(|| insertion.iter().position(|m| m == module).map(Probe::Insertion))
    };
    let mut layers = Vec::new();
    for module in modules {
        let probe = probe_of(module).ok_or_else(|| {
            ReparamError::Init(format!(
                "`{module}` is neither a linear point {linear:?} nor an insertion point {insertion:?} of the model, \
                 so its pre-activation cannot be read; set data_init = false or expose the layer \
                 (PlasticModel::linear_points / insertion_points)"
            ))
        })?;
        layers.push((module.clone(), probe));
    }
    // Layer by layer, in the order the forward pass reaches them.
    let (order, _) = forward(&model, input.clone(), None);
    layers.sort_by_key(|(_, probe)| order.iter().position(|p| p == probe).unwrap_or(usize::MAX));
    let mut model = model;
    for (module, probe) in layers {
        let (_, z) = forward(&model, input.clone(), Some(probe));
        let z = z.ok_or_else(|| ReparamError::Init(format!("the forward pass never reached `{module}`")))?;
        model = init_layer(model, &module, z, init_scale)?;
    }
    Ok(model)
}

/// Sets `g` and the bias of one layer from its pre-activations `z: [n, units, positions]`.
fn init_layer<M: PlasticModel>(model: M, module: &str, z: Tensor<3>, init_scale: f64) -> Result<M, ReparamError> {
    let g_path = format!("{module}.weight.{}.g", <WeightNorm as burn::module::Reparameterization>::NAME);
    let b_path = format!("{module}.bias");
    let (mut g, mut b) = (None, None);
    walk_params(&model, true, |info, value| {
        let slot = if info.path == g_path {
            &mut g
        } else if info.path == b_path {
            &mut b
        } else {
            return;
        };
        *slot = value.and_then(ParamValue::flatten).map(|v| v.detach().to_device(&z.device()));
    });
    let g = g.ok_or_else(|| ReparamError::Init(format!("`{module}` has no weight-norm gain `{g_path}`")))?;
    let [n, units, positions] = z.dims();
    if g.dims()[0] != units {
        return Err(ReparamError::Init(format!(
            "`{module}`: {} gains for {units} units (data_init needs norm = \"output\")",
            g.dims()[0]
        )));
    }
    let shift = b.clone().unwrap_or_else(|| g.zeros_like());
    let t = (z - shift.reshape([1, units, 1])) / g.clone().reshape([1, units, 1]);
    let t: Tensor<2> = t.swap_dims(0, 1).reshape([units, n * positions]);
    let mean = t.clone().mean_dim(1).reshape([units]);
    let centred = t - mean.clone().reshape([units, 1]);
    let var = centred.powi_scalar(2).mean_dim(1).reshape([units]);
    let new_g = var.add_scalar(1e-10).sqrt().recip().mul_scalar(init_scale);
    let mut values = BTreeMap::from([(g_path, new_g.clone())]);
    if b.is_some() {
        values.insert(b_path, (mean * new_g).neg());
    }
    Ok(set_params(model, values))
}
