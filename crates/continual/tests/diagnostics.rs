//! The plasticity diagnostics on constructed activations with known answers.

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor, TensorData};
use plasticity_continual::diagnostics::{diagnose, representation};
use plasticity_core::{Activation, Hooks, InsertionPoint, PlasticModel};

/// 2 inputs → 4 ReLU units → 2 outputs, the hidden layer an insertion point.
#[derive(burn::module::Module, Debug)]
struct TwoLayer {
    hidden: Linear,
    output: Linear,
}

impl PlasticModel for TwoLayer {
    type Input = Tensor<2>;
    fn forward_hooked(&self, x: Tensor<2>, hooks: &Hooks) -> Tensor<2> {
        let h = hooks.activate(0, self.hidden.forward(x), Activation::Relu);
        self.output.forward(h)
    }
    fn insertion_points(&self) -> Vec<InsertionPoint> {
        vec![InsertionPoint {
            name: "hidden".into(),
            width: 4,
        }]
    }
}

fn linear(w: Vec<f32>, shape: [usize; 2], device: &Device) -> Linear {
    Linear {
        weight: Param::from_tensor(Tensor::from_data(TensorData::new(w, shape), device)),
        bias: None,
    }
}

fn device() -> Device {
    Device::default()
}

#[test]
fn dead_units_rank_and_weight_magnitude_of_a_constructed_layer() {
    let device = device();
    // Burn's [in, out] layout: unit 0 copies x0, unit 1 copies x1, unit 2 is −x0 − x1 (dead on
    // non-negative inputs), unit 3 is −x0 (dead too).
    let model = TwoLayer {
        hidden: linear(vec![1.0, 0.0, -1.0, -1.0, 0.0, 1.0, -1.0, 0.0], [2, 4], &device),
        output: linear(vec![0.5; 8], [4, 2], &device),
    };
    // Probe: x = (3, 0) and (0, 1): H = [[3, 0, 0, 0], [0, 1, 0, 0]], σ = (3, 1).
    let probe = Tensor::<2>::from_data(TensorData::new(vec![3.0f32, 0.0, 0.0, 1.0], [2, 2]), &device);
    let d = diagnose(&model, Hooks::none(), probe, 2);
    assert_eq!(d.probe_examples, 2);
    assert_eq!(d.layers.len(), 1);
    let layer = &d.layers[0];
    assert_eq!((layer.layer.as_str(), layer.units), ("hidden", 4));
    assert_eq!(layer.dead_fraction, 0.5);
    let expected = (-(0.75f64 * 0.75f64.ln() + 0.25 * 0.25f64.ln())).exp();
    assert!((layer.effective_rank - expected).abs() < 1e-6, "{} vs {expected}", layer.effective_rank);
    // Mean |w|: hidden 5/8; the model: (5 + 4) / 16.
    assert_eq!(layer.weight_magnitude, 0.625);
    assert_eq!(d.weight_magnitude, 9.0 / 16.0);
}

#[test]
fn a_feature_map_counts_a_unit_dead_only_when_zero_everywhere() {
    let device = device();
    // [n = 2, units = 3, positions = 2]: unit 0 alive at one position of one example only, unit
    // 1 zero everywhere, unit 2 alive; position means per example: [[0.5, 0, 1], [0, 0, 1]].
    let h = Tensor::<3>::from_data(
        TensorData::new(vec![1.0f32, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 2.0, 0.0], [2, 3, 2]),
        &device,
    );
    let (dead, rank) = representation(h);
    assert!((dead - 1.0 / 3.0).abs() < 1e-12);
    // Rows (0.5, 0, 1) and (0, 0, 1): the Gram matrix [[1.25, 1], [1, 1]] has eigenvalues
    // (2.25 ± √(0.0625 + 4)) / 2; σ their roots.
    let root = (0.0625f64 + 4.0).sqrt();
    let sv = [((2.25 + root) / 2.0).sqrt(), ((2.25 - root) / 2.0).sqrt()];
    let total = sv[0] + sv[1];
    let expected = (-sv.iter().map(|s| s / total * (s / total).ln()).sum::<f64>()).exp();
    assert!((rank - expected).abs() < 1e-6, "{rank} vs {expected}");
}
