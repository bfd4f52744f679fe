//! PEFT through the runner: a base run, then adapted runs that start from it.

mod common;
#[path = "support/peft.rs"]
mod peft_support;

use common::{config, param_values, temp_dir};
use peft_support::{BASE, adapted, attach, mlp};
use plasticity::burn::module::Module;
use plasticity::burn::tensor::Device;
use plasticity::train::commands::{load_run_model, merge_run};
use plasticity::train::{RunConfig, RunOptions, RunSummary, load_model_file, train};
use std::path::PathBuf;

/// A base run (`<name>-base`), then an adapted run (`<name>`) from it with `[peft]` = `peft`.
struct Runs {
    base_dir: PathBuf,
    base: RunSummary,
    dir: PathBuf,
    cfg: RunConfig,
    run: RunSummary,
}

fn base_then_adapted(name: &str, peft: &str) -> Runs {
    let quiet = RunOptions {
        quiet: true,
        ..Default::default()
    };
    let base_dir = temp_dir(&format!("{name}-base"));
    let base = train(&config(BASE, &base_dir), &quiet).unwrap();
    let dir = temp_dir(name);
    let cfg = adapted(&base_dir, peft, &dir);
    let run = train(&cfg, &quiet).unwrap();
    Runs {
        base_dir,
        base,
        dir,
        cfg,
        run,
    }
}

/// The base run's model with the run's `[peft]` attached and `adapter.bpk` loaded over it.
fn rebuilt_from_adapter(runs: &Runs) -> plasticity::models::Mlp {
    let base = load_model_file(mlp(), &runs.base_dir.join("model.bpk")).unwrap();
    let model = attach(base, &runs.cfg);
    plasticity::train::load_partial_file(model, &runs.dir.join("adapter.bpk")).unwrap()
}

#[test]
fn lora_run_trains_adapters_only_and_merges() {
    let runs = base_then_adapted(
        "peft-lora",
        "method = \"lora\"\nr = 4\nalpha = 4.0\ntarget_modules = [\"hidden.0\", \"hidden.1\", \"output\"]",
    );
    let (base_dir, dir, cfg, run) = (&runs.base_dir, &runs.dir, &runs.cfg, &runs.run);
    // r·(d_in + d_out) per layer.
    assert_eq!(
        run.results.parameters.trainable,
        4 * (784 + 32) + 4 * (32 + 32) + 4 * (32 + 10)
    );
    // The base weights inside the adapted model are the base run's, untouched.
    let base = param_values(&load_model_file(mlp(), &base_dir.join("model.bpk")).unwrap());
    let device = Device::flex();
    let (trainee, _) = load_run_model(mlp(), &cfg, &dir, &device).unwrap();
    let model = trainee.model;
    assert_eq!(plasticity::peft::adapter_params(&model).len(), 6);
    let merged = model.clone().materialize();
    assert_ne!(
        param_values(&merged),
        base,
        "merged weights include the trained adapters"
    );
    // merge: same logits within 1e-5.
    let report = merge_run(&dir, &cfg).unwrap();
    assert!(report.max_abs_diff <= 1e-5, "{report:?}");
    let merged_file = load_model_file(mlp(), &report.merged).unwrap();
    assert_eq!(param_values(&merged_file), param_values(&merged));
    // adapter.bpk + the base run's model.bpk reproduce the adapted model.
    assert_eq!(
        param_values(&rebuilt_from_adapter(&runs).materialize()),
        param_values(&merged)
    );
    // A changed byte in adapter.bpk is an error naming the file.
    let path = dir.join("adapter.bpk");
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.len() - 100;
    bytes[at] ^= 0x10;
    std::fs::write(&path, bytes).unwrap();
    let base = load_model_file(mlp(), &base_dir.join("model.bpk")).unwrap();
    let err = plasticity::train::load_partial_file(attach(base, cfg), &path).unwrap_err().to_string();
    assert!(err.contains("adapter.bpk") && err.contains("changed or truncated"), "{err}");
}

#[test]
fn taugate_run_reports_hard_gates() {
    let Runs {
        base_dir,
        base,
        dir,
        run,
        ..
    } = base_then_adapted("gate-run", "method = \"taugate\"");
    assert_eq!(
        run.results.parameters.trainable,
        2 * (32 + 32),
        "threshold and gain per hidden unit"
    );
    assert_eq!(run.results.parameters.total, base.results.parameters.total + 128);
    let report = &run.results.methods["taugate"];
    let active = report["active_fraction"].as_array().unwrap();
    assert_eq!(active.len(), 2);
    assert!(active.iter().all(|f| (0.0..=1.0).contains(&f.as_f64().unwrap())));
    assert_eq!(report["class_activity"][0].as_array().unwrap().len(), 10);
    assert!(report["hard_test_accuracy"].as_f64().unwrap() > 0.1);
    assert!(report["soft_test_accuracy"].as_f64().unwrap() > 0.1);
    for file in [
        "gates.bpk",
        "taugate.json",
        "taugate-hidden.0.png",
        "taugate-hidden.1.png",
    ] {
        assert!(dir.join(file).exists(), "{file}");
    }
    // The frozen model inside the TauGate run equals the base run's model.
    assert_eq!(
        param_values(&load_model_file(mlp(), &dir.join("model.bpk")).unwrap()),
        param_values(&load_model_file(mlp(), &base_dir.join("model.bpk")).unwrap())
    );
}

/// `modules_to_save`: the head trains in full beside MiSS adapters on the hidden layers (the
/// target regex `.*` also matches `output`, which is excluded as peft does); `adapter.bpk` holds
/// the head, and the peft-format export carries it as `base_model.model.output.*`.
#[test]
fn miss_run_with_saved_head() {
    let runs = base_then_adapted(
        "peft-saved",
        "method = \"miss\"\nr = 8\ntarget_modules = \".*\"\nmodules_to_save = [\"output\"]",
    );
    let (base_dir, dir, cfg, run) = (&runs.base_dir, &runs.dir, &runs.cfg, &runs.run);
    // Bone blocks [r, d_out] on hidden.0 and hidden.1, plus the whole head.
    assert_eq!(run.results.parameters.trainable, 8 * 32 + 8 * 32 + (32 * 10 + 10));

    let device = Device::flex();
    let base = load_model_file(mlp(), &base_dir.join("model.bpk")).unwrap();
    let (trainee, _) = load_run_model(mlp(), &cfg, &dir, &device).unwrap();
    let model = trainee.model;
    assert_eq!(plasticity::peft::adapter_params(&model).len(), 2, "the head is not adapted");
    assert_ne!(
        param_values(&model.output),
        param_values(&base.output),
        "the head trained"
    );
    assert_eq!(
        param_values(&model.hidden[0].bias),
        param_values(&base.hidden[0].bias),
        "hidden biases stay frozen"
    );
    // adapter.bpk (adapters + head) over the base run's model reproduces the adapted model.
    assert_eq!(
        param_values(&rebuilt_from_adapter(&runs).materialize()),
        param_values(&model.clone().materialize())
    );
    // The peft-format export carries the head; importing it onto the base gives the same model.
    let out = temp_dir("peft-saved-export");
    plasticity::train::commands::export_run(dir, cfg, &out).unwrap();
    let imported = plasticity::peft::import_miss(base, out.join("adapter")).unwrap();
    assert_eq!(
        param_values(&imported.materialize()),
        param_values(&model.materialize())
    );
}

/// `dropout > 0` on the bundled MLP (whose layers are linear points): training goes through the
/// dropout hook, so the training loss differs from the same run without dropout, while evaluation,
/// merge and the exported `lora_dropout` are those of plain LoRA.
#[test]
fn lora_dropout_run_trains_through_the_hook() {
    let lora = "method = \"lora\"\nr = 4\ntarget_modules = \".*\"";
    let runs = base_then_adapted("lora-dropout", &format!("{lora}\ndropout = 0.3"));
    let plain_dir = temp_dir("lora-no-dropout");
    let plain_cfg = adapted(&runs.base_dir, lora, &plain_dir);
    let quiet = RunOptions {
        quiet: true,
        ..Default::default()
    };
    let plain = train(&plain_cfg, &quiet).unwrap();
    let (with, without) = (&runs.run.results.epochs[0], &plain.results.epochs[0]);
    assert_ne!(
        with.train_loss, without.train_loss,
        "dropout changes the training forward"
    );
    assert_eq!(
        runs.run.results.parameters.trainable,
        plain.results.parameters.trainable
    );
    let report = merge_run(&runs.dir, &runs.cfg).unwrap();
    assert!(report.max_abs_diff <= 1e-5, "{report:?}");
    let out = temp_dir("lora-dropout-export");
    plasticity::train::commands::export_run(&runs.dir, &runs.cfg, &out).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("adapter/adapter_config.json")).unwrap()).unwrap();
    assert_eq!(json["lora_dropout"], serde_json::json!(0.3));
}

/// `modules_to_save` with TauGate: the gates and the head train, the hidden layers stay the base
/// run's, and the head goes to `saved.bpk` beside `gates.bpk`.
#[test]
fn taugate_run_with_saved_head() {
    let runs = base_then_adapted("gate-saved", "method = \"taugate\"\nmodules_to_save = [\"output\"]");
    assert_eq!(
        runs.run.results.parameters.trainable,
        2 * (32 + 32) + (32 * 10 + 10),
        "gates plus the whole head"
    );
    let base = load_model_file(mlp(), &runs.base_dir.join("model.bpk")).unwrap();
    let model = load_model_file(mlp(), &runs.dir.join("model.bpk")).unwrap();
    assert_eq!(param_values(&model.hidden), param_values(&base.hidden));
    assert_ne!(param_values(&model.output), param_values(&base.output));
    let rebuilt = plasticity::train::load_partial_file(base, &runs.dir.join("saved.bpk")).unwrap();
    assert_eq!(param_values(&rebuilt), param_values(&model));
}
