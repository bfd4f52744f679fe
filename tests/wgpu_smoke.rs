//! wgpu smoke training: the same short run on flex and on wgpu (lavapipe's software Vulkan on
//! CI machines) must give the same per-epoch losses within a tolerance. Compiled only with
//! `--features wgpu`: `cargo test --features wgpu --test wgpu_smoke` (or `just wgpu-smoke`).
#![cfg(feature = "wgpu")]

mod common;

use common::{config, temp_dir};
use plasticity::train::{RunOptions, train};

const SMOKE: &str = r#"
seed = 3
[data]
valid_size = 500
train_subset = 2000
[model]
kind = "mlp"
hidden = [64]
[optimizer]
kind = "adam"
lr = 1e-3
[train]
epochs = 2
batch_size = 100
eval_batch_size = 500
"#;

/// Absolute tolerance on per-epoch mean losses: float summation order differs between the
/// backends' matmul kernels, and Adam amplifies that a little over 40 steps.
const LOSS_TOLERANCE: f64 = 5e-3;

#[test]
fn wgpu_matches_flex() {
    let quiet = RunOptions { quiet: true, ..Default::default() };
    let flex = train(&config(SMOKE, &temp_dir("smoke-flex")), &quiet).unwrap();
    let mut cfg = config(SMOKE, &temp_dir("smoke-wgpu"));
    cfg.device = "wgpu".into();
    let wgpu = train(&cfg, &quiet).unwrap();
    for (f, w) in flex.results.epochs.iter().zip(&wgpu.results.epochs) {
        println!("epoch {}: flex train {:.6} valid {:.6} | wgpu train {:.6} valid {:.6}", f.epoch, f.train_loss, f.valid_loss, w.train_loss, w.valid_loss);
        assert!((f.train_loss - w.train_loss).abs() < LOSS_TOLERANCE, "epoch {} train loss", f.epoch);
        assert!((f.valid_loss - w.valid_loss).abs() < LOSS_TOLERANCE, "epoch {} valid loss", f.epoch);
    }
    let (fa, wa) = (flex.results.test_accuracy.unwrap(), wgpu.results.test_accuracy.unwrap());
    println!("test accuracy: flex {fa:.4} wgpu {wa:.4}");
    assert!((fa - wa).abs() < 0.01);
}
