//! The 2-layer net the prune tests share: `x·W1 → ReLU → ·W2`, no biases, fixed weights.

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor, TensorData};
use plasticity_core::{Hooks, PlasticModel};

#[derive(burn::module::Module, Debug)]
pub struct Net {
    pub hidden: Linear,
    pub output: Linear,
}

impl PlasticModel for Net {
    type Input = Tensor<2>;
    fn forward_hooked(&self, x: Tensor<2>, _hooks: &Hooks) -> Tensor<2> {
        self.output.forward(burn::tensor::activation::relu(self.hidden.forward(x)))
    }
}

/// The net with `w1: [shape1]` and `w2: [shape2]` (Burn's `[d_in, d_out]`).
pub fn net(w1: &[f32], shape1: [usize; 2], w2: &[f32], shape2: [usize; 2], device: &Device) -> Net {
    let linear = |w: &[f32], shape: [usize; 2]| Linear {
        weight: Param::from_tensor(Tensor::from_data(TensorData::new(w.to_vec(), shape), device)),
        bias: None,
    };
    Net {
        hidden: linear(w1, shape1),
        output: linear(w2, shape2),
    }
}
