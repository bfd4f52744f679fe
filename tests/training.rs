//! End-to-end training through the library API, on real MNIST.

mod common;

use common::{SMALL, config, shared_data, temp_dir};
use plasticity::burn::module::Module;
use plasticity::burn::nn::{Linear, LinearConfig};
use plasticity::burn::tensor::{Device, Tensor};
use plasticity::core::{Activation, Hooks, InsertionPoint, PlasticModel};
use plasticity::train::{RunOptions, train, train_with};

/// The quickstart config reaches 0.95 test accuracy on the bundled subset.
#[test]
fn quickstart_reaches_095() {
    let dir = temp_dir("quickstart");
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/configs/quickstart.toml")).unwrap();
    let summary = train(
        &config(&text, &dir),
        &RunOptions {
            quiet: true,
            ..Default::default()
        },
    )
    .unwrap();
    let acc = summary.results.test_accuracy.unwrap();
    assert!(acc >= 0.95, "quickstart test accuracy {acc}");
    for file in ["results.json", "curves.png", "model.bpk", "config.toml", "run.log"] {
        assert!(dir.join(file).exists(), "{file} missing");
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("results.json")).unwrap()).unwrap();
    assert_eq!(
        json["parameters"]["total"],
        784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10
    );
    assert_eq!(json["epochs"].as_array().unwrap().len(), 8);
    assert_eq!(json["provenance"]["burn_version"], "0.22.1");
}

/// An MLP on the full MNIST files reaches 0.98 test accuracy.
#[test]
#[ignore = "needs the full MNIST files (../shared/data beside the repository, or PLASTICITY_DATA); run with `cargo test --workspace -- --include-ignored`"]
fn full_mnist_mlp_reaches_098() {
    let dir = temp_dir("full-mnist");
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/configs/mnist-mlp.toml")).unwrap();
    let mut cfg = config(&text, &dir);
    cfg.data.data_dir = Some(shared_data());
    let summary = train(
        &cfg,
        &RunOptions {
            quiet: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        summary.results.epochs.iter().map(|e| e.train_examples).sum::<u64>(),
        55_000 * 10
    );
    let acc = summary.results.test_accuracy.unwrap();
    assert!(acc >= 0.98, "full MNIST test accuracy {acc}");
}

/// A model defined only in this test trains through the runner and exposes its insertion point.
#[derive(Module, Debug)]
struct TestNet {
    hidden: Linear,
    output: Linear,
}

impl PlasticModel for TestNet {
    type Input = Tensor<2>;
    fn forward_hooked(&self, x: Tensor<2>, hooks: &Hooks) -> Tensor<2> {
        self.output
            .forward(hooks.activate(0, self.hidden.forward(x), Activation::Tanh))
    }
    fn insertion_points(&self) -> Vec<InsertionPoint> {
        vec![InsertionPoint {
            name: "hidden".into(),
            width: 32,
        }]
    }
}

fn test_net(device: &Device) -> TestNet {
    TestNet {
        hidden: LinearConfig::new(784, 32).init(device),
        output: LinearConfig::new(32, 10).init(device),
    }
}

#[test]
fn custom_model_trains() {
    let dir = temp_dir("custom");
    let cfg = config(&SMALL.replace("epochs = 3", "epochs = 2"), &dir);
    let summary = train_with(&cfg, &RunOptions::default(), test_net, Default::default()).unwrap();
    assert_eq!(summary.results.parameters.total, 784 * 32 + 32 + 32 * 10 + 10);
    assert!(summary.results.test_accuracy.unwrap() > 0.8);
}

/// A model whose logits become NaN stops the run with a message naming the step.
#[derive(Module, Debug)]
struct NanNet {
    output: Linear,
}

impl PlasticModel for NanNet {
    type Input = Tensor<2>;
    fn forward_hooked(&self, x: Tensor<2>, _hooks: &Hooks) -> Tensor<2> {
        self.output.forward(x).mul_scalar(f32::NAN)
    }
}

#[test]
fn nan_loss_stops_with_step() {
    let dir = temp_dir("nan");
    let init = |d: &Device| NanNet {
        output: LinearConfig::new(784, 10).init(d),
    };
    let err = train_with(&config(SMALL, &dir), &RunOptions::default(), init, Default::default())
    .err()
    .expect("a NaN loss must fail the run");
    let msg = err.to_string();
    assert!(
        msg.contains("NaN") && msg.contains("step 1 (epoch 1, batch 1)"),
        "{msg}"
    );
    assert!(!dir.join("model.bpk").exists());
}
