//! Methods passed to the run function: rules after every update, loss penalties, global-norm
//! clipping, and an optimizer that replaces the configured one.

use burn::module::Param;
use burn::nn::LinearConfig;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use plasticity_core::optim::Optimizer;
use plasticity_core::{Method, MethodModules, MethodResult, StepContext};
use plasticity_models::{Mlp, MlpConfig};
use plasticity_train::clip::{clip_global_norm, global_norm};
use plasticity_train::{Extensions, RunOptions, RunSummary, parse_config, train_with};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

fn run_config(name: &str) -> plasticity_train::RunConfig {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("ext-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let text = "seed = 5\n[data]\nvalid_size = 500\ntrain_subset = 1000\n[model]\nkind = \"mlp\"\nhidden = [16]\n[train]\nepochs = 2\nbatch_size = 100\n";
    parse_config(text, "test", &[format!("output_dir=\"{}\"", dir.display())]).unwrap()
}

fn mlp(device: &Device) -> Mlp {
    MlpConfig {
        hidden: vec![16],
        ..Default::default()
    }
    .init(device)
}

fn run(name: &str, ext: Extensions<Mlp>) -> RunSummary {
    train_with(&run_config(name), &RunOptions::default(), mlp, ext).unwrap()
}

/// The final `model.bpk` of a run, loaded into a fresh MLP 784-16-10.
fn saved_model(dir: &std::path::Path) -> Mlp {
    plasticity_train::load_model_file(mlp(&Device::flex()), &dir.join("model.bpk")).unwrap()
}

/// Zeroes the output bias after every optimizer step and counts its calls.
struct ZeroOutputBias(Arc<AtomicU64>);

impl Method<Mlp> for ZeroOutputBias {
    fn name(&self) -> String {
        "zero-output-bias".into()
    }
    fn after_step(&mut self, mut model: Mlp, _modules: &mut MethodModules, cx: &mut StepContext) -> MethodResult<Mlp> {
        assert_eq!(cx.step, self.0.fetch_add(1, Ordering::SeqCst), "steps are counted from 0");
        model.output.bias = model.output.bias.map(|bias| {
            bias.map(|b| {
                let trainable = b.is_require_grad();
                b.zeros_like().detach().set_require_grad(trainable)
            })
        });
        Ok(model)
    }
}

#[test]
fn step_rule_runs_after_every_update() {
    let calls = Arc::new(AtomicU64::new(0));
    let summary = run("rule", Extensions::methods(vec![Box::new(ZeroOutputBias(calls.clone()))]));
    assert_eq!(calls.load(Ordering::SeqCst), 20, "1000 examples / 100 per batch × 2 epochs");
    let saved = saved_model(&summary.dir);
    let bias = saved.output.bias.unwrap().val().into_data().try_to_vec::<f32>().unwrap();
    assert!(bias.iter().all(|&b| b == 0.0), "{bias:?}");
    // Still learns (chance is 0.1; 16 hidden units, 1000 images and 2 epochs reach 0.45–0.6
    // depending on the initialisation).
    assert!(summary.results.test_accuracy.unwrap() > 0.3);
}

/// λ‖W‖² on the hidden weights: a large λ shrinks them compared with no penalty.
struct L2(f32);

impl Method<Mlp> for L2 {
    fn name(&self) -> String {
        "l2".into()
    }
    fn penalty(&self, model: &Mlp, _modules: &MethodModules) -> Option<Tensor<1>> {
        Some(model.hidden[0].weight.val().powi_scalar(2).sum().mul_scalar(self.0))
    }
}

fn hidden_norm(name: &str, methods: Vec<Box<dyn Method<Mlp>>>) -> f32 {
    let summary = run(name, Extensions::methods(methods));
    let saved = saved_model(&summary.dir);
    saved.hidden[0].weight.val().powi_scalar(2).sum().sqrt().into_scalar::<f32>()
}

#[test]
fn penalty_is_added_to_the_loss() {
    let plain = hidden_norm("plain", vec![]);
    let penalised = hidden_norm("l2", vec![Box::new(L2(1.0))]);
    assert!(penalised < 0.5 * plain, "penalised {penalised} vs plain {plain}");
}

/// Clipping scales all gradients together, like torch.nn.utils.clip_grad_norm_.
#[test]
fn global_norm_clipping_matches_hand_values() {
    let device = Device::flex();
    let layer = LinearConfig::new(2, 2).init(&device);
    let mut grads = GradientsParams::new();
    // weight grad [[3, 0], [0, 0]] and bias grad [0, 4]: global norm 5.
    grads.register(
        layer.weight.id,
        Tensor::<2>::from_data(TensorData::new(vec![3.0f32, 0.0, 0.0, 0.0], [2, 2]), &device),
    );
    let bias_id = layer.bias.as_ref().map(|b: &Param<Tensor<1>>| b.id).unwrap();
    grads.register(bias_id, Tensor::<1>::from_data(TensorData::new(vec![0.0f32, 4.0], [2]), &device));
    assert!((global_norm(&layer, &grads) - 5.0).abs() < 1e-6);
    let clipped = clip_global_norm(&layer, grads, 1.0);
    let w = clipped.get::<2>(layer.weight.id).unwrap().into_data().try_to_vec::<f32>().unwrap();
    let b = clipped.get::<1>(bias_id).unwrap().into_data().try_to_vec::<f32>().unwrap();
    // factor = 1 / (5 + 1e-6)
    assert!((w[0] - 0.6).abs() < 1e-5 && (b[1] - 0.8).abs() < 1e-5, "{w:?} {b:?}");
    assert!((global_norm(&layer, &clipped) - 1.0).abs() < 1e-5);
    // Under the limit: unchanged.
    let unchanged = clip_global_norm(&layer, clipped, 10.0);
    assert!((global_norm(&layer, &unchanged) - 1.0).abs() < 1e-5);
}

/// `Extensions::optimizer` replaces the optimizer of `[optimizer]`: plain SGD at the config's
/// lr 1e-3 learns far less in 20 steps than the configured Adam does.
#[test]
fn custom_optimizer_replaces_the_configured_one() {
    let adam = run("adam", Extensions::default());
    let sgd = run(
        "sgd",
        Extensions {
            methods: vec![],
            optimizer: Some(Optimizer::Burn(burn::optim::SgdConfig::new().init())),
        },
    );
    let (a, s) = (adam.results.epochs[1].train_loss, sgd.results.epochs[1].train_loss);
    assert!(s > a + 0.3, "SGD epoch-2 loss {s} should stay well above Adam's {a}");
}
