//! Continual backprop: the golden utilities (spec continual.md §3.1, golden_values.out) and a
//! hand-computed replacement with its weights and optimizer state checked after the reset.

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::{Device, Int, Tensor, TensorData, loss::cross_entropy_with_logits};
use plasticity_continual::cbp::{CbpConfig, CbpMethod, StepStats, UnitState, UtilityKind};
use plasticity_core::optim::{OptimizerConfig, PlasticOptimizer};
use plasticity_core::{
    Activation, AttachContext, Forward, Hooks, InsertionPoint, Method, MethodModules, Mode, PlasticModel, StepContext, TensorState,
    walk_params,
};
use plasticity_data::SplitMix64;

fn close(a: &[f32], b: &[f32]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= 1e-6, "{a:?} vs {b:?}");
    }
}

/// golden_values.out, "CBP utilities": η 0.99, h = [[1, 0, 2], [3, 0, 0]], W_out (PyTorch
/// [out][unit]) = [[0.5, −1, 0.1], [0.5, 2, −0.3]], W_in ([unit][in]) = [[1, −1], [0.2, 0.2],
/// [−3, 1]], the same batch twice.
#[test]
fn golden_utilities() {
    let h = [[1.0f32, 0.0, 2.0], [3.0, 0.0, 0.0]];
    let mean_h: Vec<f32> = (0..3).map(|i| (h[0][i] + h[1][i]) / 2.0).collect();
    let mean_abs = mean_h.clone();
    let out_mag = [0.5f32, 1.5, 0.2];
    let in_mag = [1.0f32, 0.2, 2.0];
    let centered = |f: &[f32]| (0..3).map(|i| ((h[0][i] - f[i]).abs() + (h[1][i] - f[i]).abs()) / 2.0).collect::<Vec<f32>>();
    let stats = StepStats {
        mean_h: &mean_h,
        mean_abs: &mean_abs,
        out_mag: &out_mag,
        in_mag: &in_mag,
        centered: &centered,
    };
    let expected = [
        (UtilityKind::Contribution, [[0.01, 0.0, 0.002], [1.0, 0.0, 0.2]], [[0.0199, 0.0, 0.00398], [1.0, 0.0, 0.2]]),
        (UtilityKind::AdaptableContribution, [[0.005, 0.0, 0.001], [0.5, 0.0, 0.1]], [[0.00995, 0.0, 0.00199], [0.5, 0.0, 0.1]]),
    ];
    for (utility, step0, step1) in expected {
        let config = CbpConfig {
            utility,
            ..CbpConfig::default()
        };
        let mut s = UnitState::new(3);
        let mut rng = SplitMix64::new(0);
        for want in [step0, step1] {
            assert!(s.step(&stats, &config, &mut rng).is_empty(), "no unit is mature yet");
            close(&s.util, &want[0]);
            close(&s.corrected_util(0.99), &want[1]);
        }
    }
}

/// 2 inputs → 3 ReLU units → 2 outputs.
#[derive(burn::module::Module, Debug)]
struct Net {
    hidden: Linear,
    output: Linear,
}

impl PlasticModel for Net {
    type Input = Tensor<2>;
    fn forward_hooked(&self, x: Tensor<2>, hooks: &Hooks) -> Tensor<2> {
        self.output.forward(hooks.activate(0, self.hidden.forward(x), Activation::Relu))
    }
    fn insertion_points(&self) -> Vec<InsertionPoint> {
        vec![InsertionPoint {
            name: "hidden".into(),
            width: 3,
        }]
    }
}

fn linear(w: Vec<f32>, shape: [usize; 2], b: Vec<f32>, device: &Device) -> Linear {
    let n = b.len();
    Linear {
        weight: Param::from_tensor(Tensor::from_data(TensorData::new(w, shape), device)),
        bias: Some(Param::from_tensor(Tensor::from_data(TensorData::new(b, [n]), device))),
    }
}

fn values<M: burn::module::Module>(model: &M, path: &str) -> Vec<f32> {
    let mut out = Vec::new();
    walk_params(model, true, |info, v| {
        if info.path == path {
            out = v.unwrap().into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
        }
    });
    out
}

/// Ages [50, 200, 200] with maturity 100: units 1 and 2 are eligible; ρ = 0.5 gives
/// 0.5 · 2 = 1 unit this step. Unit 1's utility starts high and unit 2's at 0, and both receive
/// a positive new utility: unit 2 has the lower û and is the one replaced. After the step its
/// incoming column of Burn's [in, out] weight is redrawn within √(1/fan_in), its bias and its
/// outgoing row are 0, its age and utility 0, and Adam's moments and per-element step are 0 at
/// exactly those entries (every other entry keeps its state).
#[test]
fn a_hand_computed_case_replaces_the_expected_unit() {
    let device = Device::flex().autodiff();
    let model = Net {
        hidden: linear(vec![1.0, 0.5, -0.5, 0.5, 1.0, 1.0], [2, 3], vec![0.1, 0.2, 0.3], &device),
        output: linear(vec![1.0, -1.0, 0.5, 0.5, 2.0, 1.0], [3, 2], vec![0.0, 0.0], &device),
    };
    let config = CbpConfig {
        replacement_rate: 0.5,
        ..CbpConfig::default()
    };
    let mut method = CbpMethod::new(config, 7);
    let mut state = TensorState::new();
    state.put_vec("hidden/util", vec![1.0, 5.0, 0.0], vec![3]);
    state.put_vec("hidden/mean_act", vec![0.0, 0.0, 0.0], vec![3]);
    state.meta = serde_json::json!({ "steps": 0, "ages": { "hidden": [50, 200, 200] }, "accumulated": { "hidden": 0.0 } });
    Method::<Net>::restore(&mut method, state).unwrap();
    let cx = AttachContext {
        device: &device,
        total_steps: 1,
        run_dir: None,
    };
    let model = method.attach(model, &cx).unwrap();
    let x = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 2.0, 0.5, -1.0], [2, 2]), &device);
    let y = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 1], [2]), &device);
    let modules = MethodModules::new();
    let hooks = Hooks::new(Method::<Net>::hooks(&method, &model, &modules, Forward { mode: Mode::Train, step: 0 }));
    let logits = model.forward_hooked(x, &hooks);
    let targets = y.one_hot(2).float();
    let loss = cross_entropy_with_logits(logits, targets);
    let grads = burn::optim::GradientsParams::from_grads(loss.backward(), &model);
    let mut optimizer = PlasticOptimizer::new(OptimizerConfig::default(), None).with_per_element_steps(true);
    let model = optimizer.step(1e-3, model, grads);
    let before_in = values(&model, "hidden.weight");
    let mut modules = modules;
    let mut step = StepContext {
        step: 0,
        lr: 1e-3,
        epoch: 1,
        optimizer: Some(optimizer.state_mut()),
    };
    let model = method.after_step(model, &mut modules, &mut step).unwrap();

    assert_eq!(method.replaced(), 1);
    let s = &method.states()["hidden"];
    assert_eq!(s.ages, vec![51, 201, 0], "unit 2 replaced: age 0");
    assert_eq!(s.util[2], 0.0);
    assert!(s.util[1] > 0.0);
    // Incoming column 2 of [in = 2, out = 3]: flat indices 2 and 5, redrawn within 1/√2.
    let w = values(&model, "hidden.weight");
    for k in [0, 1, 3, 4] {
        assert_eq!(w[k], before_in[k], "other units keep their weights");
    }
    for k in [2, 5] {
        assert!(w[k] != before_in[k] && w[k].abs() <= (0.5f32).sqrt(), "{w:?}");
    }
    assert_eq!(values(&model, "hidden.bias")[2], 0.0);
    // Outgoing row 2 of [3, 2]: flat 4 and 5.
    let out = values(&model, "output.weight");
    assert_eq!(&out[4..6], &[0.0, 0.0]);
    assert!(out[..4].iter().all(|&v| v != 0.0));
    // Optimizer state: zero at exactly the reset entries.
    let state = optimizer.state();
    let check = |path: &str, reset: &[usize]| {
        let p = state.by_path(path).unwrap();
        for name in ["moment_1", "moment_2", "step"] {
            let v = p.buffer(name).unwrap_or_else(|| panic!("{path}: no `{name}` buffer")).values();
            for (k, x) in v.iter().enumerate() {
                if reset.contains(&k) {
                    assert_eq!(*x, 0.0, "{path}/{name}[{k}] reset");
                } else if name == "step" {
                    assert_eq!(*x, 1.0, "{path}/{name}[{k}] kept");
                }
            }
        }
    };
    check("hidden.weight", &[2, 5]);
    check("hidden.bias", &[2]);
    check("output.weight", &[4, 5]);
}

/// A 3×3 convolution with 2 channels on 2×2 images (padding 1), flattened into a Linear 8 → 2:
/// the conv → fc boundary, where channel `c` owns fc rows `4c .. 4c + 4`.
#[derive(burn::module::Module, Debug)]
struct ConvNet {
    conv: burn::nn::conv::Conv2d,
    fc: Linear,
}

impl PlasticModel for ConvNet {
    type Input = Tensor<2>;
    fn forward_hooked(&self, x: Tensor<2>, hooks: &Hooks) -> Tensor<2> {
        let n = x.dims()[0];
        let h = hooks.activate_map(0, self.conv.forward(x.reshape([n, 1, 2, 2])), Activation::Relu);
        self.fc.forward(h.flatten(1, 3))
    }
    fn insertion_points(&self) -> Vec<InsertionPoint> {
        vec![InsertionPoint {
            name: "conv".into(),
            width: 2,
        }]
    }
}

#[test]
fn a_channel_at_the_conv_to_fc_boundary_is_replaced_with_its_rows() {
    use burn::nn::PaddingConfig2d;
    use burn::nn::conv::Conv2dConfig;
    let device = Device::flex().autodiff();
    let model = ConvNet {
        conv: Conv2dConfig::new([1, 2], [3, 3]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)).init(&device),
        fc: linear((0..16).map(|i| 0.1 + i as f32 * 0.01).collect(), [8, 2], vec![0.0, 0.0], &device),
    };
    let mut method = CbpMethod::new(
        CbpConfig {
            replacement_rate: 0.5,
            ..CbpConfig::default()
        },
        3,
    );
    let mut state = TensorState::new();
    state.put_vec("conv/util", vec![5.0, 0.0], vec![2]);
    state.put_vec("conv/mean_act", vec![0.0, 0.0], vec![2]);
    state.meta = serde_json::json!({ "steps": 0, "ages": { "conv": [200, 200] }, "accumulated": { "conv": 0.0 } });
    Method::<ConvNet>::restore(&mut method, state).unwrap();
    let cx = AttachContext {
        device: &device,
        total_steps: 1,
        run_dir: None,
    };
    let model = method.attach(model, &cx).unwrap();
    let modules = MethodModules::new();
    let hooks = Hooks::new(Method::<ConvNet>::hooks(&method, &model, &modules, Forward { mode: Mode::Train, step: 0 }));
    let x = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 0.5, -0.5, 2.0, 0.3, 0.2, 0.1, -1.0], [2, 4]), &device);
    let _ = model.forward_hooked(x, &hooks);
    let conv_before: Vec<f32> = values(&model, "conv.weight");
    let mut modules = modules;
    let mut step = StepContext {
        step: 0,
        lr: 1e-3,
        epoch: 1,
        optimizer: None,
    };
    let model = method.after_step(model, &mut modules, &mut step).unwrap();
    assert_eq!(method.states()["conv"].ages, vec![201, 0], "channel 1 replaced");
    let w = values(&model, "conv.weight");
    assert_eq!(&w[..9], &conv_before[..9], "channel 0 keeps its kernel");
    assert!(w[9..].iter().zip(&conv_before[9..]).all(|(a, b)| a != b && a.abs() <= 1.0 / 3.0), "{w:?}");
    assert_eq!(values(&model, "conv.bias")[1], 0.0);
    let fc = values(&model, "fc.weight");
    assert!(fc[..8].iter().all(|&v| v != 0.0), "channel 0's rows 0-3 stay");
    assert!(fc[8..].iter().all(|&v| v == 0.0), "channel 1's rows 4-7 are zero: {fc:?}");
}

/// Shrink and perturb adds N(0, σ²) to every trainable parameter after a step (σ = 0: nothing).
#[test]
fn shrink_and_perturb_adds_noise_of_the_given_scale() {
    use plasticity_continual::shrink_perturb::{ShrinkPerturb, ShrinkPerturbConfig};
    let device = Device::flex().autodiff();
    let net = || Net {
        hidden: linear(vec![0.0; 6], [2, 3], vec![0.0; 3], &device),
        output: linear(vec![0.0; 6], [3, 2], vec![0.0; 2], &device),
    };
    let mut modules = MethodModules::new();
    let mut step = StepContext {
        step: 0,
        lr: 1e-3,
        epoch: 1,
        optimizer: None,
    };
    let mut none = ShrinkPerturb(ShrinkPerturbConfig { noise_std: 0.0 });
    let model = Method::<Net>::after_step(&mut none, net(), &mut modules, &mut step).unwrap();
    assert!(values(&model, "hidden.weight").iter().all(|&v| v == 0.0));
    device.seed(11);
    let mut sp = ShrinkPerturb(ShrinkPerturbConfig { noise_std: 0.5 });
    let model = (0..200).fold(net(), |m, _| Method::<Net>::after_step(&mut sp, m, &mut modules, &mut step).unwrap());
    // After 200 steps each entry is N(0, 200 · 0.25): its variance over the 17 entries is near 50.
    let all: Vec<f32> = ["hidden.weight", "hidden.bias", "output.weight", "output.bias"].iter().flat_map(|p| values(&model, p)).collect();
    let var = all.iter().map(|v| (v * v) as f64).sum::<f64>() / all.len() as f64;
    assert!(var > 20.0 && var < 100.0, "{var}");
}
