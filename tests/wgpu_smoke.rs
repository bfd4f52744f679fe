//! wgpu smoke training: the same short run on flex and on wgpu (lavapipe's software Vulkan on
//! CI machines) must give the same per-epoch losses within a tolerance. Compiled only with
//! `--features wgpu`: `cargo test --features wgpu --test wgpu_smoke` (or `just wgpu-smoke`).
#![cfg(feature = "wgpu")]

mod common;

use common::{config, temp_dir};
use plasticity::burn::module::Module;
use plasticity::burn::tensor::Device;
use plasticity::models::{Mlp, MlpConfig};
use plasticity::train::{RunOptions, train_with};

/// The same initial weights on both backends: drawn on flex (each backend has its own RNG), then
/// moved to the run's device.
fn seeded_mlp(device: &Device) -> Mlp {
    let flex = Device::flex().autodiff(); // trainable params stay trainable through fork
    flex.seed(3);
    MlpConfig {
        hidden: vec![64],
        ..Default::default()
    }
    .init(&flex)
    .fork(device)
}

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

/// Relative tolerance on per-epoch mean losses. Measured on lavapipe (2026-11-23), flex vs wgpu:
/// epoch 1 train 1.4315 vs 1.4396 (0.57%), valid 0.7975 vs 0.8008 (0.41%); epoch 2 train 0.6137
/// vs 0.6041 (1.55%), valid 0.5071 vs 0.5056 (0.30%). Same initial weights and batches, so the gap
/// is the backends' arithmetic (kernels, reduction order, lavapipe's float math) amplified by Adam
/// while the loss falls steeply. A real bug (wrong layout, a missing bias) is far larger.
const LOSS_TOLERANCE: f64 = 0.03;

#[test]
fn wgpu_matches_flex() {
    let quiet = RunOptions {
        quiet: true,
        ..Default::default()
    };
    let flex = train_with(&config(SMOKE, &temp_dir("smoke-flex")), &quiet, seeded_mlp, Default::default()).unwrap();
    let mut cfg = config(SMOKE, &temp_dir("smoke-wgpu"));
    cfg.device = "wgpu".into();
    let wgpu = train_with(&cfg, &quiet, seeded_mlp, Default::default()).unwrap();
    for (f, w) in flex.results.epochs.iter().zip(&wgpu.results.epochs) {
        println!(
            "epoch {}: flex train {:.6} valid {:.6} | wgpu train {:.6} valid {:.6}",
            f.epoch, f.train_loss, f.valid_loss, w.train_loss, w.valid_loss
        );
        let close = |a: f64, b: f64| (a - b).abs() <= LOSS_TOLERANCE * a.abs();
        assert!(close(f.train_loss, w.train_loss), "epoch {} train loss", f.epoch);
        assert!(close(f.valid_loss, w.valid_loss), "epoch {} valid loss", f.epoch);
    }
    let (fa, wa) = (flex.results.test_accuracy.unwrap(), wgpu.results.test_accuracy.unwrap());
    println!("test accuracy: flex {fa:.4} wgpu {wa:.4}");
    assert!((fa - wa).abs() < 0.01);
}

/// Largest absolute difference allowed between flex's and wgpu's mean-pooled MiniLM embeddings
/// (1,536 values, the largest about 1.05). Measured on lavapipe (2026-12-02): 7.2e-7. The two
/// backends' float arithmetic differs (kernels, reduction order), so not bit for bit; a real bug
/// (a wrong layout, a missing mask) moves entries by 1e-2 or more.
const BERT_TOLERANCE: f32 = 1e-4;

/// The pretrained encoder's forward on wgpu against flex: all-MiniLM-L6-v2 (../shared/data/text)
/// on the four reference sentences, padded to the longest, with the attention mask.
#[test]
fn bert_encoder_forward_matches_flex() {
    use plasticity::burn::tensor::{Int, Tensor, TensorData};
    use plasticity::core::Hooks;
    use plasticity::models::bert::{BertModel, load_pretrained};
    let data = std::env::var_os("PLASTICITY_DATA").map(std::path::PathBuf::from).unwrap_or_else(|| "../shared/data".into());
    let dir = data.join("text");
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("reference/minilm_reference.json")).expect("reference")).expect("json");
    let ids: Vec<Vec<i64>> = serde_json::from_value(reference["input_ids"].clone()).expect("ids");
    let mask: Vec<Vec<f32>> = serde_json::from_value(reference["attention_mask"].clone()).expect("mask");
    let (b, s) = (ids.len(), ids[0].len());
    let pooled = |device: &Device| -> Vec<f32> {
        let (_, model) = load_pretrained(&dir.join("all-MiniLM-L6-v2"), device).expect("MiniLM");
        let ids = Tensor::<2, Int>::from_data(TensorData::new(ids.concat(), [b, s]), device);
        let mask = Tensor::<2>::from_data(TensorData::new(mask.concat(), [b, s]), device);
        let hidden = model.encode(ids, &mask, &Hooks::none());
        BertModel::mean_pool(hidden, &mask).into_data().convert::<f32>().try_into_vec::<f32>().expect("f32")
    };
    let flex = pooled(&Device::flex());
    let wgpu_device = plasticity::train::device::parse_device("wgpu").and_then(|d| d.open()).expect("wgpu device");
    let wgpu = pooled(&wgpu_device);
    let max_diff = flex.iter().zip(&wgpu).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    let largest = flex.iter().fold(0f32, |m, a| m.max(a.abs()));
    println!("bert forward: {} pooled values, largest |value| {largest:.4}, max |flex - wgpu| {max_diff:.3e}", flex.len());
    assert_eq!(flex.len(), wgpu.len());
    assert!(max_diff <= BERT_TOLERANCE, "flex and wgpu differ by {max_diff}");
}
