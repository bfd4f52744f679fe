//! `[reparam]` through the runner, on the bundled MNIST subset (resume: tests/resume.rs): runs
//! with `[peft]` on other parameters train, the same parameter in both tables is refused, and
//! every command that loads a run (`eval`, `inspect --run`, `merge`, `export`, `init_from`)
//! rebuilds the reparameterized model.

mod common;

use common::{SMALL, config, temp_dir};
use plasticity::burn::module::Module;
use plasticity::burn::tensor::{Device, Tensor};
use plasticity::core::{Hooks, InsertionPoint, PlasticModel};
use plasticity::train::commands::{evaluate_run, export_run, inspect_run, merge_run};
use plasticity::train::{RunOptions, RunSummary, train, train_with};
use std::path::Path;

fn quiet() -> RunOptions {
    RunOptions {
        quiet: true,
        ..Default::default()
    }
}

/// `SMALL` with a `[reparam]` table (and any other lines).
fn with(table: &str) -> String {
    format!("{SMALL}\n{table}\n")
}

/// The test accuracy `eval` computes from the run directory equals the one the run reported.
fn assert_eval_matches(run: &RunSummary, cfg: &plasticity::train::RunConfig) {
    let eval = evaluate_run(&run.dir, cfg).unwrap();
    assert_eq!(Some(eval.accuracy), run.results.test_accuracy, "eval --run of {}", run.dir.display());
}

/// The F32 tensors of a safetensors file: name -> (shape, values).
fn safetensors(path: &Path) -> std::collections::BTreeMap<String, (Vec<usize>, Vec<f32>)> {
    let bytes = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let data = &bytes[8 + n..];
    header
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| *k != "__metadata__")
        .map(|(k, v)| {
            assert_eq!(v["dtype"], "F32", "{k}");
            let [start, end]: [usize; 2] = serde_json::from_value(v["data_offsets"].clone()).unwrap();
            let values = data[start..end].chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
            (k.clone(), (serde_json::from_value(v["shape"].clone()).unwrap(), values))
        })
        .collect()
}

#[test]
fn lora_and_weight_norm_on_different_layers_train_and_load_everywhere() {
    let text = with(
        "[peft]\nmethod = \"lora\"\nr = 4\ntarget_modules = [\"hidden.0\"]\n\
         [reparam]\nmethod = \"weight-norm\"\ndata_init = true\ntarget_modules = [\"output\"]",
    );
    let dir = temp_dir("lora-wn");
    let cfg = config(&text, &dir);
    let run = train(&cfg, &quiet()).unwrap();
    let roles = &run.results.parameters.by_role;
    assert_eq!(roles["adapter"].trainable, 4 * (784 + 64));
    assert_eq!(roles["weight-norm gain"].trainable, 10);
    // LoRA freezes the base; the weight-normalized `v` still trains, its bias stays frozen.
    assert_eq!(roles["base"].trainable, 64 * 10, "{roles:?}");
    assert!(run.results.test_accuracy.unwrap() > 0.5, "{:?}", run.results.test_accuracy);

    assert_eval_matches(&run, &cfg);
    let table = inspect_run(&dir, &cfg).unwrap();
    assert!(table.contains("output.weight.weight_norm.g") && table.contains("weight-norm gain"), "{table}");
    let merged = merge_run(&dir, &cfg).unwrap();
    assert!(merged.max_abs_diff <= 1e-5, "merge changed the outputs by {}", merged.max_abs_diff);

    let out = dir.join("export");
    export_run(&dir, &cfg, &out).unwrap();
    assert!(out.join("adapter/adapter_model.safetensors").exists());
    let wn = safetensors(&out.join("weight_norm.safetensors"));
    let base = safetensors(&out.join("base.safetensors"));
    let (g_shape, g) = &wn["output.parametrizations.weight.original0"];
    let (v_shape, v) = &wn["output.parametrizations.weight.original1"];
    assert_eq!((g_shape.as_slice(), v_shape.as_slice()), ([10, 1].as_slice(), [10, 64].as_slice()));
    assert!(!wn.contains_key("output.weight"));
    // base.safetensors: LoRA's layer at its stored (frozen) base, for peft to put the adapter
    // on; the weight-normalized layer baked, w = g·v/‖v‖ row by row in PyTorch's [out, in].
    assert_eq!(base["hidden.0.weight"].0, vec![64, 784]);
    let (w_shape, w) = &base["output.weight"];
    assert_eq!(w_shape, &vec![10, 64]);
    for row in 0..10 {
        let v = &v[row * 64..(row + 1) * 64];
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        for (k, x) in v.iter().enumerate() {
            let expected = g[row] * x / norm;
            assert!((w[row * 64 + k] - expected).abs() <= 1e-6, "output.weight[{row}, {k}]");
        }
    }
}

#[test]
fn peft_and_reparam_on_the_same_weight_are_refused() {
    let text = with(
        "[peft]\nmethod = \"lora\"\nr = 4\ntarget_modules = [\"hidden.0\"]\n[reparam]\nmethod = \"compander\"",
    );
    let err = train(&config(&text, &temp_dir("lora-comp-same")), &quiet()).err().unwrap().to_string();
    assert!(
        err.contains("`hidden.0.weight`") && err.contains("[reparam]") && err.contains("[peft]") && err.contains("exclude_modules"),
        "{err}"
    );
}

/// A run started from a reparameterized run begins at the function that run computed (its
/// reparameterization baked): with a learning rate of 1e-12 it has the same test accuracy.
#[test]
fn init_from_a_weight_norm_run_starts_from_its_baked_model() {
    let base_dir = temp_dir("wn-base");
    let base = train(&config(&with("[reparam]\nmethod = \"weight-norm\""), &base_dir), &quiet()).unwrap();
    let text = SMALL.replace("lr = 2e-3", "lr = 1e-12").replace("epochs = 3", "epochs = 1");
    let text = format!("init_from = \"{}\"\n{text}", base_dir.display());
    let run = train(&config(&text, &temp_dir("wn-init-from")), &quiet()).unwrap();
    assert_eq!(run.results.test_accuracy, base.results.test_accuracy);
    assert_eq!(run.results.parameters.total, base.results.parameters.total - (64 + 10));
}

/// A model defined only in this test, with a `[reparam]` compander on its Linear layers.
#[derive(Module, Debug)]
struct TestNet {
    hidden: plasticity::burn::nn::Linear,
    output: plasticity::burn::nn::Linear,
}

impl PlasticModel for TestNet {
    type Input = Tensor<2>;
    fn forward_hooked(&self, x: Tensor<2>, hooks: &Hooks) -> Tensor<2> {
        let z = hooks.linear(0, &self.hidden, x);
        hooks.linear(1, &self.output, hooks.activate(0, z, plasticity::core::Activation::Tanh))
    }
    fn insertion_points(&self) -> Vec<InsertionPoint> {
        vec![InsertionPoint {
            name: "hidden".into(),
            width: 32,
        }]
    }
    fn linear_points(&self) -> Vec<String> {
        vec!["hidden".into(), "output".into()]
    }
}

#[test]
fn a_test_model_trains_with_weight_norm_and_data_init() {
    let init = |device: &Device| TestNet {
        hidden: plasticity::burn::nn::LinearConfig::new(784, 32).init(device),
        output: plasticity::burn::nn::LinearConfig::new(32, 10).init(device),
    };
    let text = with("[reparam]\nmethod = \"weight-norm\"\ndata_init = true");
    let run = train_with(&config(&text, &temp_dir("wn-test-net")), &quiet(), init, Default::default()).unwrap();
    assert_eq!(run.results.parameters.by_role["weight-norm gain"].total, 32 + 10);
    assert!(run.results.test_accuracy.unwrap() > 0.85, "{:?}", run.results.test_accuracy);
}
