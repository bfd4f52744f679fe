//! Helpers shared by the integration tests: fixtures from `scripts/peft_reference.py` (PyTorch
//! layout `[out, in]`) turned into Burn tensors, and small test models that are not `Mlp`.
#![allow(dead_code)]

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor, TensorData};
use serde_json::Value;

pub fn device() -> Device {
    Device::flex()
}

pub fn fixture(text: &str) -> Vec<Value> {
    let root: Value = serde_json::from_str(text).expect("fixture is valid JSON");
    root["cases"].as_array().expect("fixture has cases").clone()
}

fn numbers(value: &Value) -> Vec<f32> {
    match value {
        Value::Array(items) => items.iter().flat_map(numbers).collect(),
        Value::Number(n) => vec![n.as_f64().expect("number") as f32],
        other => panic!("not a number: {other}"),
    }
}

fn dims(value: &Value) -> Vec<usize> {
    let mut dims = Vec::new();
    let mut current = value;
    while let Value::Array(items) = current {
        dims.push(items.len());
        current = &items[0];
    }
    dims
}

pub fn tensor<const D: usize>(value: &Value) -> Tensor<D> {
    let shape: [usize; D] = dims(value).try_into().expect("fixture rank");
    Tensor::from_data(TensorData::new(numbers(value), shape), &device())
}

/// A PyTorch-layout `[out, in]` matrix as Burn-layout `[in, out]`.
pub fn burn_weight(value: &Value) -> Tensor<2> {
    tensor::<2>(value).transpose()
}

pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec::<f32>().expect("f32 data")
}

/// MLP 12-16-4 on `device` seeded with `seed`, its lazy parameters initialised (burn-0.22.md §11.7).
pub fn small_mlp(device: &Device, seed: u64) -> plasticity_models::Mlp {
    device.seed(seed);
    let mlp = plasticity_models::MlpConfig {
        input: 12,
        hidden: vec![16],
        classes: 4,
        ..plasticity_models::MlpConfig::default()
    }
    .init(device);
    let _ = plasticity_core::param_infos(&mlp);
    mlp
}

pub fn max_abs_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
    assert_eq!(a.dims(), b.dims(), "shapes differ");
    values(a)
        .iter()
        .zip(values(b))
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// `max |a − b| ≤ tolerance · max(1, max |b|)`: the inputs are unseeded random draws, so the
/// tolerance scales with the magnitude of the values compared (f32 rounding is relative).
pub fn assert_close<const D: usize>(a: Tensor<D>, b: Tensor<D>, tolerance: f32, what: &str) {
    let scale = values(b.clone()).iter().fold(1.0f32, |m, v| m.max(v.abs()));
    let diff = max_abs_diff(a, b);
    assert!(
        diff <= tolerance * scale,
        "{what}: max |diff| = {diff:e} > {tolerance:e} × {scale}"
    );
}

/// A model defined only in the tests: not an `Mlp`, nested modules and a `Vec`.
#[derive(Module, Debug)]
pub struct Tower {
    pub encoder: Linear,
    pub blocks: Vec<Block>,
    pub head: Linear,
}

#[derive(Module, Debug)]
pub struct Block {
    pub proj: Linear,
    pub gate: Linear,
}

impl Tower {
    /// 6 -> 8 -> (8 -> 8 -> 8) x 2 -> 4. Parameters are initialised before any clone
    /// (burn-0.22.md §11.7).
    pub fn new(device: &Device) -> Self {
        let block = || Block {
            proj: LinearConfig::new(8, 8).init(device),
            gate: LinearConfig::new(8, 8).init(device),
        };
        let tower = Self {
            encoder: LinearConfig::new(6, 8).init(device),
            blocks: vec![block(), block()],
            head: LinearConfig::new(8, 4).init(device),
        };
        let _ = plasticity_core::param_infos(&tower);
        tower
    }

    /// tanh, not ReLU: with widths of 8 and unseeded inputs, a ReLU layer can be dead on the
    /// whole batch, which zeroes every upstream gradient and made "adapters moved" flaky.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let mut h = burn::tensor::activation::tanh(self.encoder.forward(x));
        for block in &self.blocks {
            h = burn::tensor::activation::tanh(block.gate.forward(block.proj.forward(h)));
        }
        self.head.forward(h)
    }
}

/// Paths and stored values of every float parameter outside reparameterizations (the bases), and
/// the paths of the parameters inside them (the adapters).
#[derive(Default)]
pub struct Snapshot {
    stack: Vec<String>,
    depth: usize,
    pub bases: Vec<(String, Vec<f32>)>,
    pub adapters: Vec<(String, Vec<f32>)>,
}

impl Snapshot {
    pub fn of<M: Module>(model: &M) -> Self {
        let mut snapshot = Self::default();
        model.visit(&mut snapshot);
        snapshot
    }
}

impl burn::module::ModuleVisitor for Snapshot {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.depth += usize::from(container_type == "Reparameterization");
        self.stack.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, container_type: &str) {
        self.depth -= usize::from(container_type == "Reparameterization");
        self.stack.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
        let entry = (self.stack.join("."), values(param.base()));
        if self.depth == 0 {
            self.bases.push(entry)
        } else {
            self.adapters.push(entry)
        }
    }
}
