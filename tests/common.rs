//! Helpers shared by the integration tests.
#![allow(dead_code)]

use plasticity::burn::module::{Module, ModuleVisitor, Param};
use plasticity::burn::tensor::Tensor;
use plasticity::train::{RunConfig, RunOptions, RunSummary, StopSignal, parse_config, train};
use std::path::PathBuf;

/// A small, quick MLP run on the bundled data (3 epochs, cosine schedule with warm-up).
pub const SMALL: &str = r#"
name = "small"
seed = 7
[data]
valid_size = 500
train_subset = 3000
[model]
kind = "mlp"
hidden = [64]
[optimizer]
kind = "adam"
lr = 2e-3
[schedule]
kind = "cosine"
warmup_steps = 10
[train]
epochs = 3
batch_size = 64
"#;

/// The real datasets beside the repository (CI has ../shared next to the clone).
pub fn shared_data() -> PathBuf {
    let dir = std::env::var_os("PLASTICITY_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    assert!(
        dir.join("mnist").is_dir(),
        "the real MNIST files are missing from {} (set PLASTICITY_DATA)",
        dir.display()
    );
    dir
}

/// A fresh temporary run directory under the target directory.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A config from TOML text with `output_dir` set to `dir`.
pub fn config(text: &str, dir: &std::path::Path) -> RunConfig {
    let set = format!("output_dir=\"{}\"", dir.display());
    parse_config(text, "test", &[set]).unwrap()
}

/// Every float parameter's values, in visiting order.
pub fn param_values<M: Module>(module: &M) -> Vec<Vec<f32>> {
    struct Values(Vec<Vec<f32>>);
    impl ModuleVisitor for Values {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0
                .push(param.val().into_data().convert::<f32>().try_to_vec::<f32>().unwrap());
        }
    }
    let mut v = Values(Vec::new());
    module.visit(&mut v);
    v.0
}

/// Trains `full` uninterrupted and `split` (the same run in another directory) stopped after
/// epoch 1 through the Ctrl-C path, its final `model.bpk` removed, then resumed; asserts the
/// resumed run has the same per-epoch losses to the last bit and the same test accuracy.
/// Returns both summaries (compare the weights with the model's own loader).
pub fn assert_resume_bit_identical(full: &RunConfig, split: &RunConfig) -> (RunSummary, RunSummary) {
    let quiet = || RunOptions {
        quiet: true,
        ..Default::default()
    };
    let full = train(full, &quiet()).unwrap();
    let signal = StopSignal::new();
    signal.press(); // as if Ctrl-C was pressed once during epoch 1
    let first = train(split, &RunOptions { signal, ..quiet() }).unwrap();
    assert_eq!(
        first.results.epochs.len(),
        1,
        "the first press stops after the epoch's checkpoint"
    );
    let dir = split.run_dir();
    assert!(dir.join("checkpoint/model-1.bpk").exists());
    std::fs::remove_file(dir.join("model.bpk")).unwrap();

    let resumed = train(
        split,
        &RunOptions {
            resume: true,
            ..quiet()
        },
    )
    .unwrap();
    assert_eq!(resumed.results.resumed_after_epoch, Some(1));
    assert_eq!(resumed.results.epochs.len(), full.results.epochs.len());
    for (a, b) in full.results.epochs.iter().zip(&resumed.results.epochs) {
        let epoch = a.epoch;
        assert_eq!(
            a.train_loss.to_bits(),
            b.train_loss.to_bits(),
            "epoch {epoch} train loss"
        );
        assert_eq!(
            a.valid_loss.to_bits(),
            b.valid_loss.to_bits(),
            "epoch {epoch} valid loss"
        );
    }
    assert_eq!(full.results.test_accuracy, resumed.results.test_accuracy);
    (full, resumed)
}
