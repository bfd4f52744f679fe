//! A small LeNet-style CNN for 28×28 single-channel images.

use plasticity_core::{Activation, Hooks, InsertionPoint, PlasticModel};
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

/// conv5×5(1→c1) → φ → maxpool2 → conv5×5(c1→c2) → φ → maxpool2 → linear(c2·4·4→hidden) → φ →
/// linear(hidden→classes), after LeCun et al. 1998 (no padding, max instead of average pooling).
/// Input `[batch, side·side]` is reshaped to `[batch, 1, side, side]`. Insertion points: `conv1`
/// and `conv2` (the unit is the channel; hooks see `[batch, c, h, w]` before pooling) and `fc`.
/// Linear points: `fc` and `output`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CnnConfig {
    /// Image side in pixels (28 for MNIST).
    #[serde(default = "default_side")]
    pub side: usize,
    /// Output channels of the two convolutions.
    #[serde(default = "default_channels")]
    pub channels: [usize; 2],
    /// Width of the fully connected hidden layer.
    #[serde(default = "default_hidden")]
    pub hidden: usize,
    #[serde(default = "default_classes")]
    pub classes: usize,
    #[serde(default)]
    pub activation: Activation,
}

fn default_side() -> usize {
    28
}
fn default_channels() -> [usize; 2] {
    [8, 16]
}
fn default_hidden() -> usize {
    120
}
fn default_classes() -> usize {
    10
}

impl Default for CnnConfig {
    fn default() -> Self {
        Self {
            side: 28,
            channels: default_channels(),
            hidden: 120,
            classes: 10,
            activation: Activation::Relu,
        }
    }
}

impl CnnConfig {
    /// Side length after both conv+pool stages: ((side − 4)/2 − 4)/2.
    pub fn feature_side(&self) -> usize {
        ((self.side.saturating_sub(4)) / 2).saturating_sub(4) / 2
    }

    pub fn init(&self, device: &Device) -> Cnn {
        let [c1, c2] = self.channels;
        let flat = c2 * self.feature_side() * self.feature_side();
        Cnn {
            conv1: Conv2dConfig::new([1, c1], [5, 5]).init(device),
            conv2: Conv2dConfig::new([c1, c2], [5, 5]).init(device),
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            fc: LinearConfig::new(flat, self.hidden).init(device),
            output: LinearConfig::new(self.hidden, self.classes).init(device),
            activation: self.activation,
            side: self.side,
        }
    }
}

#[derive(Module, Debug)]
pub struct Cnn {
    pub conv1: Conv2d,
    pub conv2: Conv2d,
    pub pool: MaxPool2d,
    pub fc: Linear,
    pub output: Linear,
    #[module(skip)]
    pub activation: Activation,
    pub side: usize,
}

impl PlasticModel for Cnn {
    type Input = Tensor<2>;

    fn forward_hooked(&self, input: Tensor<2>, hooks: &Hooks) -> Tensor<2> {
        let batch = input.dims()[0];
        let x: Tensor<4> = input.reshape([batch, 1, self.side, self.side]);
        let x = self.pool.forward(hooks.activate_map(0, self.conv1.forward(x), self.activation));
        let x = self.pool.forward(hooks.activate_map(1, self.conv2.forward(x), self.activation));
        let x: Tensor<2> = x.flatten(1, 3);
        let z = hooks.linear(0, &self.fc, x);
        let x = hooks.activate(2, z, self.activation);
        hooks.linear(1, &self.output, x)
    }

    fn linear_points(&self) -> Vec<String> {
        vec!["fc".into(), "output".into()]
    }

    fn insertion_points(&self) -> Vec<InsertionPoint> {
        let point = |name: &str, width: usize| InsertionPoint {
            name: name.into(),
            width,
        };
        vec![
            point("conv1", self.conv1.weight.dims()[0]),
            point("conv2", self.conv2.weight.dims()[0]),
            point("fc", self.fc.weight.dims()[1]),
        ]
    }
}
