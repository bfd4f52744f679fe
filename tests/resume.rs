//! Resume is bit-identical, in its own test binary with one test: the device RNG (model init,
//! TriAdaptLoRA's new blocks) is process-wide on flex, so the comparison must not share the
//! process with other training threads.

mod common;
#[path = "support/peft.rs"]
mod peft_support;

use common::{SMALL, assert_resume_bit_identical, config, param_values, temp_dir};
use peft_support::{BASE, adapted, mlp};
use plasticity::burn::tensor::Device;
use plasticity::models::MlpConfig;
use plasticity::train::commands::load_run_model;
use plasticity::train::load_model_file;
use plasticity::train::{RunOptions, train};

#[test]
fn resumed_runs_are_bit_identical() {
    plain_mlp_resume();
    triadapt_resume();
    adamw_and_reparam_resume();
}

fn final_params(dir: &std::path::Path) -> Vec<Vec<f32>> {
    let device = Device::flex();
    let model = MlpConfig {
        hidden: vec![64],
        ..MlpConfig::default()
    }
    .init(&device);
    param_values(&load_model_file(model, &dir.join("model.bpk")).unwrap())
}

/// A run stopped after epoch 1 (Ctrl-C path) and resumed ends bit-identical to an
/// uninterrupted run: same weights, same per-epoch losses.
fn plain_mlp_resume() {
    let full_dir = temp_dir("full");
    let split_dir = temp_dir("split");
    assert_resume_bit_identical(&config(SMALL, &full_dir), &config(SMALL, &split_dir));
    assert_eq!(final_params(&full_dir), final_params(&split_dir));
}

/// A TriAdaptLoRA run whose ranks grow in every epoch, stopped after epoch 1 and resumed, ends
/// bit-identical to an uninterrupted one: the checkpoint keeps the grown rank pattern and the
/// allocator's scores (`rules-<epoch>.json`), and new blocks draw from a per-epoch device seed.
fn triadapt_resume() {
    let quiet = RunOptions {
        quiet: true,
        ..Default::default()
    };
    let base_dir = temp_dir("triadapt-resume-base");
    train(&config(BASE, &base_dir), &quiet).unwrap();
    let peft = "method = \"triadapt\"\ninit_rank = 1\nreference_rank = 6\nincre_interval = 15\n\
                target_modules = [\"hidden.0\", \"hidden.1\", \"output\"]";
    let cfg = |name: &str| {
        let mut c = adapted(&base_dir, peft, &temp_dir(name));
        c.train.epochs = 3;
        c.train.keep_checkpoints = 3;
        c
    };
    let (full, split) = (cfg("triadapt-full"), cfg("triadapt-split"));
    assert_resume_bit_identical(&full, &split);
    let patterns: Vec<String> = [&full, &split]
        .map(|c| std::fs::read_to_string(c.run_dir().join("rank_pattern.json")).unwrap())
        .to_vec();
    assert_eq!(patterns[0], patterns[1]);
    let epoch_1 = plasticity::core::TensorState::load(&split.run_dir().join("checkpoint/methods-1.bpk")).unwrap();
    let final_pattern: serde_json::Value = serde_json::from_str(&patterns[0]).unwrap();
    assert_ne!(
        epoch_1.meta["triadapt"]["rank_pattern"], final_pattern,
        "ranks grew after epoch 1"
    );
    let device = Device::flex();
    let load = |c: &plasticity::train::RunConfig| {
        let (trainee, _) = load_run_model(mlp(), c, &c.run_dir(), &device).unwrap();
        param_values(&trainee.model)
    };
    assert_eq!(load(&full), load(&split));
}

/// Under AdamW's weight decay (whose no-decay group is keyed by parameter ids, which loading a
/// checkpoint restores): the plain MLP, weight normalization with its data-dependent init (which
/// a resumed run must skip: the checkpoint holds the initialized model), and a compander with
/// learned θ; Adagrad with L2 decay and CLASSP (their accumulators are checkpointed); and
/// continual backprop, whose utilities, ages, accumulators and step count are method state and
/// whose replacements reset Adam's per-element state; and shrink and perturb, whose noise comes
/// from the device RNG that each epoch reseeds; and sparse training (GraNet under Adam, RigL
/// under SGD with momentum), whose masks and events are method state.
fn adamw_and_reparam_resume() {
    const ADAMW: &str = "kind = \"adamw\"\nlr = 2e-3";
    let tables = [
        ("adamw", ADAMW, ""),
        ("wn", ADAMW, "[reparam]\nmethod = \"weight-norm\"\ndata_init = true\ninit_batch = 200"),
        ("compander", ADAMW, "[reparam]\nmethod = \"compander\"\nlearn = true"),
        ("adagrad", "kind = \"adagrad\"\nlr = 1e-2\nweight_decay = 1e-4\nlr_decay = 1e-3", ""),
        ("classp", "kind = \"classp\"\nlr = 0.05", ""),
        ("cbp", "kind = \"adam\"\nlr = 2e-3", "[cbp]\nreplacement_rate = 0.01\nmaturity_threshold = 10"),
        ("shrink-perturb", "kind = \"adam\"\nlr = 2e-3", "[shrink_perturb]\nnoise_std = 1e-4"),
        ("granet", "kind = \"adam\"\nlr = 2e-3", "[prune]\nmethod = \"granet\"\nfinal_sparsity = 0.8\nend = 60\nfrequency = 20"),
        ("rigl", "kind = \"sgd\"\nlr = 0.05\nmomentum = 0.9", "[prune]\nmethod = \"rigl\"\nfinal_sparsity = 0.8\nfrequency = 20"),
    ];
    for (name, optimizer, table) in tables {
        let text = format!("{}\n{table}\n", SMALL.replace("kind = \"adam\"\nlr = 2e-3", optimizer));
        assert!(text.contains(optimizer), "{name}: SMALL's [optimizer] changed");
        let (full_dir, split_dir) = (temp_dir(&format!("{name}-full")), temp_dir(&format!("{name}-split")));
        let (full, _) = assert_resume_bit_identical(&config(&text, &full_dir), &config(&text, &split_dir));
        assert!(full.results.test_accuracy.unwrap() > 0.85, "{name}: {:?}", full.results.test_accuracy);
        if name == "cbp" {
            let replaced = full.results.methods["cbp"]["units_replaced"].as_u64().unwrap();
            assert!(replaced > 10, "continual backprop replaced units during the run: {replaced}");
        }
        let device = Device::flex();
        let load = |dir: &std::path::Path| {
            let c = config(&text, dir);
            let model = MlpConfig {
                hidden: vec![64],
                ..MlpConfig::default()
            }
            .init(&device);
            let (trainee, _) = load_run_model(model, &c, dir, &device).unwrap();
            param_values(&trainee.model)
        };
        assert_eq!(load(&full_dir), load(&split_dir), "{name}: final parameters");
    }
}
