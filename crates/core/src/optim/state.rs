//! The optimizer's per-parameter, per-element state, which methods can read, mask and reset.
//!
//! Each stepped parameter has a [`ParamState`]: its path, shape, step count and buffers
//! (SGD's momentum; Adam's two moments; Adagrad's accumulator; for methods that ask for it, a per-element step count
//! as in the official AdamGnT of continual backprop). Buffers live in host memory on CPU
//! backends, where the update is one fused loop, and as device tensors elsewhere.

use crate::state::TensorState;
use burn::module::ParamId;
use burn::tensor::{Bool, Device, Tensor, TensorData};
use std::collections::BTreeMap;

/// One state buffer, flattened to the parameter's element count.
#[derive(Clone, Debug)]
pub enum Buffer {
    Host(Vec<f32>),
    Device(Tensor<1>),
}

impl Buffer {
    pub(crate) fn zeros(n: usize, device: Option<&Device>) -> Self {
        match device {
            None => Self::Host(vec![0.0; n]),
            Some(d) => Self::Device(Tensor::zeros([n], d)),
        }
    }

    /// The values, read to host memory.
    pub fn values(&self) -> Vec<f32> {
        match self {
            Self::Host(v) => v.clone(),
            Self::Device(t) => t.clone().into_data().convert::<f32>().try_into_vec::<f32>().unwrap_or_default(),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Self::Host(v) => v.len(),
            Self::Device(t) => t.dims()[0],
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sets the elements where `mask` is true to zero.
    fn zero_where(&mut self, mask: &ElementMask) {
        match self {
            Self::Host(v) => {
                let zero = |m: &[bool], v: &mut Vec<f32>| {
                    for (x, &reset) in v.iter_mut().zip(m) {
                        if reset {
                            *x = 0.0;
                        }
                    }
                };
                match mask {
                    // No copy of a host mask: sparse training resets every step.
                    ElementMask::Host(m) => zero(m, v),
                    device => zero(&device.host(), v),
                }
            }
            Self::Device(t) => {
                let m = mask.device(&t.device());
                *t = t.clone().mask_fill(m, 0.0);
            }
        }
    }

    fn to_data(&self) -> TensorData {
        match self {
            Self::Host(v) => TensorData::new(v.clone(), [v.len()]),
            Self::Device(t) => t.clone().into_data(),
        }
    }

    fn from_data(data: TensorData, device: Option<&Device>) -> Option<Self> {
        let values = data.convert::<f32>().try_into_vec::<f32>().ok()?;
        Some(match device {
            None => Self::Host(values),
            Some(d) => Self::Device(Tensor::from_data(TensorData::new(values.clone(), [values.len()]), d)),
        })
    }
}

/// Which elements of a parameter to reset, flattened in the parameter's row-major order.
#[derive(Clone, Debug)]
pub enum ElementMask {
    Host(Vec<bool>),
    Device(Tensor<1, Bool>),
}

impl ElementMask {
    /// From a mask with the parameter's shape (true = reset).
    pub fn of<const D: usize>(mask: Tensor<D, Bool>) -> Self {
        let n = mask.shape().num_elements();
        Self::Device(mask.reshape([n]))
    }

    fn host(&self) -> Vec<bool> {
        match self {
            Self::Host(v) => v.clone(),
            Self::Device(t) => t.clone().into_data().convert::<bool>().try_into_vec::<bool>().unwrap_or_default(),
        }
    }

    fn device(&self, device: &Device) -> Tensor<1, Bool> {
        match self {
            Self::Host(v) => Tensor::<1, Bool>::from_data(TensorData::new(v.clone(), [v.len()]), device),
            Self::Device(t) => t.clone().to_device(device),
        }
    }
}

/// The optimizer state of one parameter.
#[derive(Clone, Debug)]
pub struct ParamState {
    /// Dotted parameter path (how a checkpoint finds it again).
    pub path: String,
    pub shape: Vec<usize>,
    /// Optimizer steps taken on this parameter (Adam's `t`, when no per-element count is kept).
    pub step: u64,
    /// Buffers by name: `momentum` (SGD), `moment_1`, `moment_2`, `step` (per element, Adam), `sum` (Adagrad).
    pub buffers: BTreeMap<String, Buffer>,
}

impl ParamState {
    pub fn buffer(&self, name: &str) -> Option<&Buffer> {
        self.buffers.get(name)
    }

    /// Zeroes every buffer at the elements `mask` selects: the moments, and the per-element
    /// step where one is kept, so those elements start afresh (GraNet's regrown weights,
    /// continual backprop's replaced units).
    pub fn reset_elements(&mut self, mask: &ElementMask) {
        for buffer in self.buffers.values_mut() {
            buffer.zero_where(mask);
        }
    }
}

/// The optimizer's state, by parameter.
#[derive(Clone, Debug, Default)]
pub struct OptimizerState {
    pub(crate) params: BTreeMap<ParamId, ParamState>,
}

impl OptimizerState {
    pub fn get(&self, id: ParamId) -> Option<&ParamState> {
        self.params.get(&id)
    }

    pub fn get_mut(&mut self, id: ParamId) -> Option<&mut ParamState> {
        self.params.get_mut(&id)
    }

    /// The state of the parameter at `path`.
    pub fn by_path(&self, path: &str) -> Option<&ParamState> {
        self.params.values().find(|s| s.path == path)
    }

    pub fn by_path_mut(&mut self, path: &str) -> Option<&mut ParamState> {
        self.params.values_mut().find(|s| s.path == path)
    }

    /// Resets the selected elements of parameter `id` (see [`ParamState::reset_elements`]);
    /// false when the parameter has no state yet (it was never stepped).
    pub fn reset_elements(&mut self, id: ParamId, mask: &ElementMask) -> bool {
        match self.params.get_mut(&id) {
            Some(state) => {
                state.reset_elements(mask);
                true
            }
            None => false,
        }
    }

    pub fn len(&self) -> usize {
        self.params.len()
    }

    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&ParamId, &ParamState)> {
        self.params.iter()
    }

    /// The state as named tensors: `<path>/<buffer>`, with steps and shapes as metadata.
    pub fn to_tensor_state(&self, kind: &str) -> TensorState {
        let mut out = TensorState::new();
        let mut params = serde_json::Map::new();
        for state in self.params.values() {
            for (name, buffer) in &state.buffers {
                out.tensors.insert(format!("{}/{name}", state.path), buffer.to_data());
            }
            params.insert(
                state.path.clone(),
                serde_json::json!({"step": state.step, "shape": state.shape}),
            );
        }
        out.meta = serde_json::json!({"kind": kind, "params": params});
        out
    }

    /// Reads [`to_tensor_state`](Self::to_tensor_state)'s output back, giving each state to the
    /// parameter of `ids` (path → id) with that path. Buffers go to host memory when `device`
    /// is `None`. Errors name what does not fit.
    pub fn from_tensor_state(
        state: TensorState,
        kind: &str,
        ids: &BTreeMap<String, ParamId>,
        device: Option<&Device>,
    ) -> Result<Self, String> {
        let saved_kind = state.meta.get("kind").and_then(|k| k.as_str()).unwrap_or("?");
        if saved_kind != kind {
            return Err(format!(
                "holds the state of a `{saved_kind}` optimizer, but the run uses `{kind}`"
            ));
        }
        let Some(params) = state.meta.get("params").and_then(|p| p.as_object()) else {
            return Err("has no parameter list".into());
        };
        let mut out = Self::default();
        for (path, info) in params {
            let id = *ids
                .get(path)
                .ok_or_else(|| format!("has state for `{path}`, which this model does not have"))?;
            let step = info.get("step").and_then(|s| s.as_u64()).unwrap_or(0);
            let shape: Vec<usize> = serde_json::from_value(info.get("shape").cloned().unwrap_or_default())
                .map_err(|e| format!("`{path}`: bad shape ({e})"))?;
            let mut buffers = BTreeMap::new();
            let prefix = format!("{path}/");
            for (name, data) in &state.tensors {
                if let Some(buffer) = name.strip_prefix(&prefix) {
                    let b = Buffer::from_data(data.clone(), device)
                        .ok_or_else(|| format!("`{name}` is not a float tensor"))?;
                    buffers.insert(buffer.to_string(), b);
                }
            }
            out.params.insert(
                id,
                ParamState {
                    path: path.clone(),
                    shape,
                    step,
                    buffers,
                },
            );
        }
        Ok(out)
    }
}
