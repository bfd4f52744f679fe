//! TauGate (peft.md §1.3): identity at init, the soft/hard formulas on a hand-derived case,
//! gradients on the gates only, and the hard-gate statistics.

mod common;

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use common::{Snapshot, assert_close, values};
use plasticity_models::{Activation, Mlp, MlpConfig, PlasticModel};
use plasticity_peft::taugate::{AnnealConfig, gate_statistics, gate_statistics_of};
use plasticity_peft::{GateSet, NeuronGate, PeftError, TauGateConfig};

fn matrix(rows: &[&[f32]], device: &Device) -> Tensor<2> {
    let data: Vec<f32> = rows.iter().flat_map(|r| r.iter().copied()).collect();
    Tensor::from_data(TensorData::new(data, [rows.len(), rows[0].len()]), device)
}

fn vector(v: &[f32], device: &Device) -> Tensor<1> {
    Tensor::from_data(TensorData::new(v.to_vec(), [v.len()]), device)
}

#[test]
fn default_gates_leave_the_mlp_unchanged_within_1e_4() {
    let device = Device::flex();
    let mlp = MlpConfig {
        input: 20,
        hidden: vec![32, 16],
        classes: 5,
        activation: Activation::Relu,
    }
    .init(&device);
    let gates = TauGateConfig::default()
        .init_for(&mlp, &device)
        .expect("default config");
    assert_eq!(gates.gates.len(), 2);
    assert_eq!(gates.num_params(), 2 * (32 + 16), "2·H per gated layer");
    let x = Tensor::<2>::random([64, 20], Distribution::Normal(0.0, 1.0), &device);
    assert_close(
        mlp.forward_hooked(x.clone(), &gates.hooks()),
        mlp.forward(x.clone()),
        1e-4,
        "soft gate at init",
    );
    // The hard gate at τ = −1 passes every ReLU unit that fires: exactly the base model.
    assert_close(
        mlp.forward_hooked(x.clone(), &gates.hardened(true).hooks()),
        mlp.forward(x),
        1e-6,
        "hard gate at init",
    );
}

/// The CNN's insertion points include both convolutions: TauGate gates their channels
/// (`[batch, c, h, w]`, the unit is the channel) and the hidden layer, and is identity at init.
#[test]
fn gates_reach_the_cnn_convolutions_per_channel() {
    let device = Device::flex();
    let cnn = plasticity_models::CnnConfig::default().init(&device);
    let points: Vec<(String, usize)> = cnn.insertion_points().into_iter().map(|p| (p.name, p.width)).collect();
    assert_eq!(points, [("conv1".into(), 8), ("conv2".into(), 16), ("fc".into(), 120)]);
    let gates = TauGateConfig::default().init_for(&cnn, &device).expect("default config");
    assert_eq!(gates.num_params(), 2 * (8 + 16 + 120));
    let x = Tensor::<2>::random([8, 784], Distribution::Normal(0.0, 1.0), &device);
    assert_close(cnn.forward_hooked(x.clone(), &gates.hooks()), cnn.forward(x.clone()), 1e-4, "soft gate at init");
    // Closing every channel of conv1 (gain 0) leaves only the biases downstream: the output
    // no longer depends on the input.
    let mut closed = gates.clone();
    closed.gates[0].gain = Param::from_tensor(Tensor::zeros([8], &device));
    let y = cnn.forward_hooked(x.clone(), &closed.hooks());
    let rows = values(y);
    assert!(rows.chunks(10).all(|r| r == &rows[..10]), "conv1 fully gated off");
}

#[test]
fn soft_and_hard_forward_follow_the_formulas() {
    let device = Device::flex();
    let gate = NeuronGate {
        threshold: Param::from_tensor(vector(&[0.5, -1.0, 2.0], &device)),
        gain: Param::from_tensor(vector(&[2.0, 1.0, 0.5], &device)),
    };
    let z_rows: [[f32; 3]; 2] = [[1.0, -0.5, 1.0], [0.2, 3.0, 2.5]];
    let z = matrix(&[&z_rows[0], &z_rows[1]], &device);
    let (tau, gain, s) = ([0.5f32, -1.0, 2.0], [2.0f32, 1.0, 0.5], 3.0f32);
    let sigmoid = |v: f32| 1.0 / (1.0 + (-v).exp());
    let mut soft = Vec::new();
    let mut hard = Vec::new();
    for row in z_rows {
        for j in 0..3 {
            let relu = row[j].max(0.0);
            soft.push(gain[j] * sigmoid(s * (row[j] - tau[j])) * relu);
            hard.push(if row[j] > tau[j] { gain[j] * relu } else { 0.0 });
        }
    }
    // Hand check of two hard entries: unit 0 of row 0 passes (1 > 0.5) with gain 2; unit 2 of row 0 is cut (1 < 2).
    assert_eq!((hard[0], hard[2]), (2.0, 0.0));
    let to_tensor = |v: Vec<f32>| Tensor::<2>::from_data(TensorData::new(v, [2, 3]), &device);
    // Gates act on the canonical [n, units, positions] form, with h = φ(z) given.
    let z3: Tensor<3> = z.clone().reshape([2, 3, 1]);
    let h3 = Activation::Relu.apply(z3.clone());
    let soft_out: Tensor<2> = gate.forward_soft(z3.clone(), h3.clone(), s as f64).reshape([2, 3]);
    assert_close(soft_out, to_tensor(soft), 1e-6, "soft");
    let hard_out: Tensor<2> = gate.forward_hard(z3, h3).reshape([2, 3]);
    assert_close(hard_out, to_tensor(hard), 0.0, "hard");
}

#[test]
fn gradients_reach_only_the_gates_and_adam_keeps_the_model() {
    let device = Device::flex().autodiff();
    let mlp = MlpConfig {
        input: 8,
        hidden: vec![6, 5],
        classes: 3,
        activation: Activation::Relu,
    }
    .init(&device)
    .freeze();
    let mut gates = TauGateConfig::default().init_for(&mlp, &device).expect("gates");
    let x = Tensor::<2>::random([4, 8], Distribution::Normal(0.0, 1.0), &device);
    let before = Snapshot::of(&mlp);
    let loss = mlp.forward_hooked(x.clone(), &gates.hooks()).powi_scalar(2).mean();
    let mut grads = loss.backward();
    assert_eq!(
        GradientsParams::from_module(&mut grads, &mlp).len(),
        0,
        "the frozen model gets no gradient"
    );
    let gate_grads = GradientsParams::from_grads(grads, &gates);
    assert_eq!(gate_grads.len(), 4, "threshold and gain of 2 layers");
    let start = values(gates.gates[0].gain.val());
    gates = AdamConfig::new().init().step(1e-2, gates, gate_grads);
    assert_ne!(values(gates.gates[0].gain.val()), start, "gains moved");
    assert_eq!(Snapshot::of(&mlp).bases, before.bases);
}

/// Input 2 -> hidden 3 (z = [x0, x1, x1 − x0]) -> 2 classes.
fn hand_mlp(device: &Device) -> Mlp {
    let linear = |w: Tensor<2>| Linear {
        weight: Param::from_tensor(w),
        bias: None,
    };
    Mlp {
        hidden: vec![linear(matrix(&[&[1.0, 0.0, -1.0], &[0.0, 1.0, 1.0]], device))],
        output: linear(matrix(&[&[1.0, 0.0], &[0.0, 1.0], &[1.0, 1.0]], device)),
        activation: Activation::Relu,
    }
}

#[test]
fn statistics_count_active_units_per_layer_and_class() {
    let device = Device::flex();
    let mlp = hand_mlp(&device);
    let gate = NeuronGate {
        threshold: Param::from_tensor(vector(&[0.5, 0.5, 2.0], &device)),
        gain: Param::from_tensor(vector(&[2.0, 1.0, 1.0], &device)),
    };
    let gates = GateSet {
        gates: vec![gate],
        sharpness: 10.0,
        hard: true,
    };
    // z rows: [1, 0, −1], [0, 1, 1], [2, 3, 1]; active (z > τ and relu > 0): [1,0,0], [0,1,0], [1,1,0].
    let x = matrix(&[&[1.0, 0.0], &[0.0, 1.0], &[2.0, 3.0]], &device);
    let stats = gate_statistics(&mlp, &gates, x.clone(), &[0, 1, 1], 3).expect("valid labels");
    assert_eq!(stats.active_fraction, vec![4.0 / 9.0]);
    assert_eq!(
        stats.class_activity,
        vec![vec![vec![1.0, 0.0, 0.0], vec![0.5, 1.0, 0.0], vec![0.0, 0.0, 0.0]]]
    );
    // Hard outputs h = γ ⊙ mask ⊙ relu(z): [2,0,0], [0,1,0], [4,3,0]; logits h·W_out.
    let expected = matrix(&[&[2.0, 0.0], &[0.0, 1.0], &[4.0, 3.0]], &device);
    assert_close(mlp.forward_hooked(x.clone(), &gates.hooks()), expected, 0.0, "hard logits");
    assert!(matches!(
        gate_statistics(&mlp, &gates, x.clone(), &[0, 1], 3),
        Err(PeftError::Config { key: "labels", .. })
    ));
    assert!(matches!(
        gate_statistics(&mlp, &gates, x, &[0, 1, 3], 3),
        Err(PeftError::Config { key: "labels", .. })
    ));
    // Over an example set in batches of 2 (a full one and a partial one): the same statistics.
    let set = Rows(vec![[1.0, 0.0], [0.0, 1.0], [2.0, 3.0]], vec![0, 1, 1]);
    let batched = gate_statistics_of(&mlp, &gates, &set, 2, &device).expect("valid labels");
    assert_eq!(batched, stats);
}

/// Examples of two features with their labels, for the batched statistics.
struct Rows(Vec<[f32; 2]>, Vec<usize>);

impl plasticity_core::ExampleSet<Tensor<2>> for Rows {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn batch(&self, indices: &[usize], device: &Device) -> plasticity_core::Batch<Tensor<2>> {
        let rows: Vec<&[f32]> = indices.iter().map(|&i| &self.0[i][..]).collect();
        let labels: Vec<i64> = indices.iter().map(|&i| self.1[i] as i64).collect();
        plasticity_core::Batch {
            input: matrix(&rows, device),
            targets: Tensor::from_data(TensorData::new(labels, [indices.len()]), device),
        }
    }
    fn label(&self, index: usize) -> usize {
        self.1[index]
    }
    fn num_classes(&self) -> usize {
        3
    }
}

#[test]
fn anneal_schedule_is_geometric_and_config_is_validated() {
    let config = TauGateConfig {
        anneal: Some(AnnealConfig { start: 1.0, end: 100.0 }),
        ..TauGateConfig::default()
    };
    assert_eq!(config.sharpness_at(0, 5), 1.0);
    assert!((config.sharpness_at(2, 5) - 10.0).abs() < 1e-9, "geometric midpoint");
    assert!((config.sharpness_at(4, 5) - 100.0).abs() < 1e-9);
    assert!(
        (config.sharpness_at(9, 5) - 100.0).abs() < 1e-9,
        "clamped after the end"
    );
    let gates = config.init(&[3], &Device::flex()).expect("valid");
    assert_eq!(gates.sharpness, 1.0, "starts at the schedule's start");
    assert_eq!(
        values(gates.gates[0].threshold.val()),
        vec![-1.0; 3],
        "tau = -c/s with s = 10, c = 10"
    );
    assert_eq!(TauGateConfig::default().sharpness_at(7, 10), 10.0);

    let parsed: TauGateConfig = serde_json::from_str(r#"{"anneal": {"start": 1, "end": 50}}"#).expect("json");
    assert_eq!((parsed.sharpness, parsed.init_margin), (10.0, 10.0));
    assert!(serde_json::from_str::<TauGateConfig>(r#"{"temperature": 1}"#).is_err());
    let bad = TauGateConfig {
        sharpness: 0.0,
        ..TauGateConfig::default()
    };
    assert!(matches!(
        bad.init(&[2], &Device::flex()),
        Err(PeftError::Config { key: "sharpness", .. })
    ));
}
