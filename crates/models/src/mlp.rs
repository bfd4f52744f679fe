//! A multilayer perceptron with configurable widths and activation.

use plasticity_core::{Activation, Hooks, InsertionPoint, PlasticModel};
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

/// `[batch, input] -> hidden[0] -> ... -> [batch, classes]`, with `activation` after every hidden
/// layer. Parameter paths: `hidden.<i>.weight` `[d_in, d_out]` (Burn layout), `hidden.<i>.bias`,
/// `output.weight`, `output.bias`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpConfig {
    /// Input features (784 for MNIST).
    #[serde(default = "default_input")]
    pub input: usize,
    /// Widths of the hidden layers.
    #[serde(default = "default_hidden")]
    pub hidden: Vec<usize>,
    /// Number of classes.
    #[serde(default = "default_classes")]
    pub classes: usize,
    #[serde(default)]
    pub activation: Activation,
}

fn default_input() -> usize {
    784
}
fn default_hidden() -> Vec<usize> {
    vec![256, 256]
}
fn default_classes() -> usize {
    10
}

impl Default for MlpConfig {
    fn default() -> Self {
        Self {
            input: 784,
            hidden: default_hidden(),
            classes: 10,
            activation: Activation::Relu,
        }
    }
}

impl MlpConfig {
    pub fn init(&self, device: &Device) -> Mlp {
        let mut d_in = self.input;
        let hidden = self
            .hidden
            .iter()
            .map(|&width| {
                let layer = LinearConfig::new(d_in, width).init(device);
                d_in = width;
                layer
            })
            .collect();
        Mlp {
            hidden,
            output: LinearConfig::new(d_in, self.classes).init(device),
            activation: self.activation,
        }
    }
}

#[derive(Module, Debug)]
pub struct Mlp {
    pub hidden: Vec<Linear>,
    pub output: Linear,
    #[module(skip)]
    pub activation: Activation,
}

impl PlasticModel for Mlp {
    type Input = Tensor<2>;

    fn forward_hooked(&self, input: Tensor<2>, hooks: &Hooks) -> Tensor<2> {
        let mut x = input;
        for (i, layer) in self.hidden.iter().enumerate() {
            let z = hooks.linear(i, layer, x);
            x = hooks.activate(i, z, self.activation);
        }
        hooks.linear(self.hidden.len(), &self.output, x)
    }

    fn linear_points(&self) -> Vec<String> {
        (0..self.hidden.len())
            .map(|i| format!("hidden.{i}"))
            .chain(["output".to_string()])
            .collect()
    }

    fn insertion_points(&self) -> Vec<InsertionPoint> {
        self.hidden
            .iter()
            .enumerate()
            .map(|(i, layer)| InsertionPoint {
                name: format!("hidden.{i}"),
                width: layer.weight.dims()[1],
            })
            .collect()
    }
}
