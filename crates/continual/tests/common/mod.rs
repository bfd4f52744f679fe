//! A one-layer model (Linear 3 → 2, fixed weights) and four labelled examples, shared by the
//! tests.

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::{Device, Int, Tensor, TensorData};
use plasticity_core::{Batch, ExampleSet, Hooks, PlasticModel};

#[derive(burn::module::Module, Debug)]
pub struct OneLayer {
    pub layer: Linear,
}

impl PlasticModel for OneLayer {
    type Input = Tensor<2>;
    fn forward_hooked(&self, x: Tensor<2>, _hooks: &Hooks) -> Tensor<2> {
        self.layer.forward(x)
    }
}

const X: [[f32; 3]; 4] = [[1.0, 0.5, -1.0], [0.2, -0.3, 0.8], [-1.0, 1.0, 0.5], [0.6, 0.1, 0.0]];
const Y: [i64; 4] = [0, 1, 1, 0];

pub struct Four;

impl ExampleSet<Tensor<2>> for Four {
    fn len(&self) -> usize {
        4
    }
    fn batch(&self, indices: &[usize], device: &Device) -> Batch<Tensor<2>> {
        let x: Vec<f32> = indices.iter().flat_map(|&i| X[i]).collect();
        let y: Vec<i64> = indices.iter().map(|&i| Y[i]).collect();
        Batch {
            input: Tensor::from_data(TensorData::new(x, [indices.len(), 3]), device),
            targets: Tensor::<1, Int>::from_data(TensorData::new(y, [indices.len()]), device),
        }
    }
    fn label(&self, index: usize) -> usize {
        Y[index] as usize
    }
    fn num_classes(&self) -> usize {
        2
    }
}

pub fn model(device: &Device) -> OneLayer {
    let weight = Tensor::<2>::from_data(TensorData::new(vec![0.1f32, -0.2, 0.3, 0.4, -0.5, 0.6], [3, 2]), device);
    let bias = Tensor::<1>::from_data(TensorData::new(vec![0.05f32, -0.05], [2]), device);
    OneLayer {
        layer: Linear {
            weight: Param::from_tensor(weight),
            bias: Some(Param::from_tensor(bias)),
        },
    }
}

