//! plasticity's optimizers against Burn's: the same update on the same gradients (within
//! 1e-6), the same 100-step weight trajectory on an MLP (within 1e-5), in host memory (the fused
//! CPU update) and as tensor ops (the GPU path, run here on flex); and element resets reach
//! exactly the chosen elements.

use burn::module::{Module, ModuleVisitor, Param};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Linear, LinearConfig, Relu};
use burn::optim::GradientsParams;
use burn::tensor::{Bool, Device, Distribution, Int, Tensor, TensorData};
use plasticity_core::optim::{
    AdagradConfig, AdamConfig, AdamWConfig, ElementMask, Implementation, Optimizer, OptimizerConfig, SgdConfig,
};
use plasticity_core::param_infos;

#[derive(Module, Debug)]
struct Net {
    l1: Linear,
    act: Relu,
    l2: Linear,
}

impl Net {
    fn new(device: &Device) -> Self {
        Self {
            l1: LinearConfig::new(12, 16).init(device),
            act: Relu::new(),
            l2: LinearConfig::new(16, 4).init(device),
        }
    }
    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.l2.forward(self.act.forward(self.l1.forward(x)))
    }
}

fn values<M: Module>(m: &M) -> Vec<f32> {
    struct V(Vec<f32>);
    impl ModuleVisitor for V {
        fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<D>>) {
            self.0.extend(p.val().into_data().convert::<f32>().try_to_vec::<f32>().unwrap());
        }
    }
    let mut v = V(Vec::new());
    m.visit(&mut v);
    v.0
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// The kinds and keys compared, PyTorch-style defaults plus the interesting options.
fn configs() -> Vec<(&'static str, OptimizerConfig)> {
    let sgd = |momentum: f64, dampening: f64, nesterov: bool, weight_decay: f32| {
        OptimizerConfig::Sgd(SgdConfig {
            lr: 0.05,
            momentum,
            dampening,
            nesterov,
            weight_decay,
            ..Default::default()
        })
    };
    vec![
        ("sgd", sgd(0.0, 0.0, false, 0.0)),
        ("sgd momentum dampening", sgd(0.9, 0.1, false, 0.0)),
        ("sgd nesterov decay", sgd(0.9, 0.0, true, 0.01)),
        ("adam", OptimizerConfig::Adam(AdamConfig::default())),
        (
            "adam l2",
            OptimizerConfig::Adam(AdamConfig {
                weight_decay: 0.05,
                eps: 1e-6,
                ..Default::default()
            }),
        ),
        ("adamw", OptimizerConfig::Adamw(AdamWConfig::default())),
        (
            "adamw cautious",
            OptimizerConfig::Adamw(AdamWConfig {
                weight_decay: 0.1,
                cautious_weight_decay: true,
                lr: 1e-2,
                ..Default::default()
            }),
        ),
        ("adagrad", OptimizerConfig::Adagrad(AdagradConfig::default())),
        (
            "adagrad lr_decay l2",
            OptimizerConfig::Adagrad(AdagradConfig {
                lr_decay: 0.01,
                weight_decay: 0.05,
                eps: 1e-6,
                ..Default::default()
            }),
        ),
    ]
}

fn with_implementation(config: &OptimizerConfig, implementation: Implementation) -> OptimizerConfig {
    let mut c = config.clone();
    match &mut c {
        OptimizerConfig::Sgd(s) => s.implementation = implementation,
        OptimizerConfig::Adam(a) => a.implementation = implementation,
        OptimizerConfig::Adamw(a) => a.implementation = implementation,
        OptimizerConfig::Adagrad(a) => a.implementation = implementation,
        OptimizerConfig::Classp(a) => a.implementation = implementation,
    }
    c
}

/// The three optimizers compared: Burn's, ours in host memory, ours as tensor ops. Biases are
/// in the no-decay group.
fn optimizers(config: &OptimizerConfig, net: &Net, device: &Device) -> [Optimizer; 3] {
    let no_decay: Vec<_> = param_infos(net).into_iter().filter(|p| p.path.ends_with("bias")).map(|p| p.id).collect();
    let burn = with_implementation(config, Implementation::Burn);
    [
        Optimizer::build(&burn, no_decay.clone(), true, device),
        Optimizer::build(config, no_decay.clone(), true, device),
        Optimizer::build(config, no_decay, false, device),
    ]
}

/// Gradients for every parameter of `net`, drawn from the device RNG (as the inner, non-autodiff
/// tensors `GradientsParams::from_grads` gives).
fn random_grads(net: &Net, device: &Device) -> GradientsParams {
    let device = &device.clone().inner();
    let mut grads = GradientsParams::new();
    for p in param_infos(net) {
        match p.shape.len() {
            1 => grads.register(p.id, Tensor::<1>::random([p.shape[0]], Distribution::Normal(0.0, 1.0), device)),
            _ => grads.register(
                p.id,
                Tensor::<2>::random([p.shape[0], p.shape[1]], Distribution::Normal(0.0, 1.0), device),
            ),
        }
    }
    grads
}

fn clone_grads(net: &Net, grads: &GradientsParams) -> GradientsParams {
    let mut out = GradientsParams::new();
    for p in param_infos(net) {
        match p.shape.len() {
            1 => out.register(p.id, grads.get::<1>(p.id).unwrap()),
            _ => out.register(p.id, grads.get::<2>(p.id).unwrap()),
        }
    }
    out
}

#[test]
fn steps_on_identical_gradients_match_burn() {
    // Burn's optimizer steps parameters of an autodiff module.
    let device = Device::flex().autodiff();
    device.seed(1);
    for (name, config) in configs() {
        let start = Net::new(&device);
        let _ = values(&start); // initialise lazy params before cloning
        let mut nets = [start.clone(), start.clone(), start];
        let mut optims = optimizers(&config, &nets[0], &device);
        for step in 0..3 {
            let grads = random_grads(&nets[0], &device);
            for (net, optim) in nets.iter_mut().zip(optims.iter_mut()) {
                *net = optim.step(0.05, net.clone(), clone_grads(net, &grads));
            }
            let burn = values(&nets[0]);
            for (i, label) in [(1, "host"), (2, "tensor ops")] {
                let diff = max_diff(&burn, &values(&nets[i]));
                println!("{name} ({label}) step {}: max |ours − Burn's| = {diff:e}", step + 1);
                assert!(diff <= 1e-6, "{name} ({label}) step {}: max |ours − Burn's| = {diff}", step + 1);
            }
        }
    }
}

#[test]
fn hundred_step_mlp_trajectory_matches_burn() {
    let device = Device::flex().autodiff();
    device.seed(2);
    let x = Tensor::<2>::random([64, 12], Distribution::Normal(0.0, 1.0), &device);
    let labels: Vec<i64> = (0..64).map(|i| (i * 7 % 4) as i64).collect();
    let y = Tensor::<1, Int>::from_data(TensorData::new(labels, [64]), &device);
    for (name, config) in configs() {
        let start = Net::new(&device);
        let _ = values(&start);
        let mut nets = [start.clone(), start.clone(), start];
        let mut optims = optimizers(&config, &nets[0], &device);
        for _ in 0..100 {
            for (net, optim) in nets.iter_mut().zip(optims.iter_mut()) {
                let loss = CrossEntropyLossConfig::new().init(&device).forward(net.forward(x.clone()), y.clone());
                let grads = GradientsParams::from_grads(loss.backward(), net);
                *net = optim.step(0.01, net.clone(), grads);
            }
        }
        let burn = values(&nets[0]);
        for (i, label) in [(1, "host"), (2, "tensor ops")] {
            let diff = max_diff(&burn, &values(&nets[i]));
            println!("{name} ({label}): after 100 steps max |ours − Burn's| = {diff:e}");
            assert!(diff <= 1e-5, "{name} ({label}): after 100 steps max |ours − Burn's| = {diff}");
        }
    }
}

/// Resetting elements zeroes both moments and the per-element step there, and only there;
/// the reset elements restart Adam's bias correction.
#[test]
fn element_resets_reach_exactly_the_chosen_elements() {
    let device = Device::flex();
    device.seed(3);
    for host in [true, false] {
        let net = Net::new(&device);
        let _ = values(&net);
        let id = net.l1.weight.id;
        let config = OptimizerConfig::Adam(AdamConfig::default());
        let mut optim = Optimizer::build(&config, vec![], host, &device).with_per_element_steps(true);
        let mut net = net;
        for _ in 0..4 {
            net = optim.step(1e-3, net.clone(), random_grads(&net, &device));
        }
        let mask: Vec<bool> = (0..12 * 16).map(|i| i % 3 == 0).collect();
        let state = optim.state_mut().unwrap();
        assert!(state.reset_elements(id, &ElementMask::Host(mask.clone())));
        let param = state.get(id).unwrap();
        for buffer in ["moment_1", "moment_2", "step"] {
            let v = param.buffer(buffer).unwrap().values();
            for (i, (&x, &reset)) in v.iter().zip(&mask).enumerate() {
                assert_eq!(x == 0.0, reset, "{buffer}[{i}] = {x} (host {host})");
            }
        }
        let steps = param.buffer("step").unwrap().values();
        assert_eq!(steps[1], 4.0);
        net = optim.step(1e-3, net.clone(), random_grads(&net, &device));
        let steps = optim.state().unwrap().get(id).unwrap().buffer("step").unwrap().values();
        assert_eq!((steps[0], steps[1]), (1.0, 5.0), "a reset element restarts its step count");
        let tensor_mask = Tensor::<2, Bool>::from_data(TensorData::new(vec![true; 16 * 4], [16, 4]), &device);
        let l2 = net.l2.weight.id;
        assert!(optim.state_mut().unwrap().reset_elements(l2, &ElementMask::of(tensor_mask)));
        let m = optim.state().unwrap().get(l2).unwrap().buffer("moment_1").unwrap().values();
        assert!(m.iter().all(|&x| x == 0.0));
    }
}

/// The state round-trips through checkpoint bytes, by parameter path.
#[test]
fn state_round_trips_through_bytes() {
    let device = Device::flex();
    device.seed(4);
    let mut net = Net::new(&device);
    let _ = values(&net);
    let config = OptimizerConfig::Adamw(AdamWConfig::default());
    let mut optim = Optimizer::build(&config, vec![], true, &device);
    for _ in 0..2 {
        net = optim.step(1e-3, net.clone(), random_grads(&net, &device));
    }
    let bytes = optim.to_bytes().unwrap();
    let ids = param_infos(&net).into_iter().map(|p| (p.path, p.id)).collect();
    let mut fresh = Optimizer::build(&config, vec![], true, &device);
    fresh.load_bytes(bytes.to_vec(), &ids).unwrap();
    let grads = random_grads(&net, &device);
    let a = optim.step(1e-3, net.clone(), clone_grads(&net, &grads));
    let b = fresh.step(1e-3, net.clone(), grads);
    assert_eq!(values(&a), values(&b));
    let sgd = OptimizerConfig::Sgd(SgdConfig::default());
    let err = Optimizer::build(&sgd, vec![], true, &device)
        .load_bytes(optim.to_bytes().unwrap().to_vec(), &param_infos(&net).into_iter().map(|p| (p.path, p.id)).collect())
        .unwrap_err();
    assert!(err.contains("`adamw`") && err.contains("`sgd`"), "{err}");
}
