//! PEFT on a pretrained transformer: a training step of all-MiniLM-L6-v2 with a classification
//! head (mean pooling, 2 classes), batch 16 × 128 tokens, AdamW (plasticity's, as `plasticity
//! train` builds it), cross-entropy, on flex.
//!
//! `cargo bench --bench bert` times one optimizer step (forward, loss, backward,
//! `GradientsParams::from_grads`, AdamW) for:
//! - `full`: full fine-tuning (every parameter trains);
//! - `frozen`: the encoder frozen, the head trained (`[peft] method = "frozen"`);
//! - `lora`: LoRA r = 8 (alpha 16) on query and value, the head in `modules_to_save`, computed in
//!   activation space (`x·W + s·(x·A)·B` through the linear-point hook, as training does);
//! - `lora-weight`: the same adapters computed as Burn's `LoraAdapter` does, `x·(W + s·A·B)`
//!   (`activation_space = false`).
//!
//! The batch is 16 × 128 pseudo-random token ids (`[CLS] … [SEP]`, every position real), written
//! to `target/bench/bert_batch.json` so that `bench/torch_bert_step.py` times PyTorch + peft on
//! the same ids (scripts/bench_bert.sh runs both and writes docs/benchmarks.md's section).
//! Warm-up steps first, then the median of `repeats` timed runs of `steps` steps, the modes
//! round-robin repeat by repeat so that ratios compare runs under the same load; then `steps`
//! more steps per mode with a sync after each phase (forward + loss, backward, gradients +
//! AdamW) for the breakdown.
//!
//! Options (after `--`): `--steps N` (default 3), `--warmup N` (2), `--repeats N` (5),
//! `--seq N` (tokens per example, default 128), `--modes a,b` (a subset of the modes, each alone
//! when given one; ratios are against the first mode timed), `--pretrained DIR` (default `$PLASTICITY_DATA/text/all-MiniLM-L6-v2`, else
//! `../shared/data/text/all-MiniLM-L6-v2`), `--out PATH` (default `target/bench/bert.json`).

mod common;

use common::median;
use plasticity::burn::module::Module;
use plasticity::burn::nn::loss::CrossEntropyLossConfig;
use plasticity::burn::optim::GradientsParams;
use plasticity::burn::tensor::{Device, Int, Tensor, TensorData};
use plasticity::core::optim::{AdamWConfig, Optimizer, OptimizerConfig};
use plasticity::core::{Hook, Hooks, Tokens, param_infos};
use plasticity::data::SplitMix64;
use plasticity::models::PlasticModel;
use plasticity::models::bert::{BertClassifier, Pooling, load_pretrained};
use plasticity::peft::{ActivationLora, LoraConfig, TargetModules, unfreeze_saved};
use serde_json::json;
use std::path::PathBuf;
use std::time::Instant;

const BATCH: usize = 16;
const CLASSES: usize = 2;
const MODES: [&str; 4] = ["full", "frozen", "lora", "lora-weight"];

struct Options {
    steps: usize,
    warmup: usize,
    repeats: usize,
    pretrained: PathBuf,
    out: PathBuf,
    seq: usize,
    /// Modes to time (default all, full fine-tuning first: the ratios' reference).
    modes: Vec<String>,
}

fn options() -> Options {
    let data = std::env::var("PLASTICITY_DATA").unwrap_or_else(|_| "../shared/data".into());
    let mut o = Options {
        steps: 3,
        warmup: 2,
        repeats: 5,
        pretrained: PathBuf::from(data).join("text/all-MiniLM-L6-v2"),
        out: "target/bench/bert.json".into(),
        seq: 128,
        modes: MODES.iter().map(|m| m.to_string()).collect(),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = || args.get(i + 1).cloned().unwrap_or_else(|| panic!("{} needs a value", args[i]));
        match args[i].as_str() {
            "--steps" => o.steps = value().parse().expect("--steps N"),
            "--warmup" => o.warmup = value().parse().expect("--warmup N"),
            "--repeats" => o.repeats = value().parse().expect("--repeats N"),
            "--pretrained" => o.pretrained = value().into(),
            "--out" => o.out = value().into(),
            "--seq" => o.seq = value().parse().expect("--seq N"),
            "--modes" => o.modes = value().split(',').map(str::to_string).collect(),
            _ => {
                i += 1; // cargo's own flags (--bench)
                continue;
            }
        }
        i += 2;
    }
    o
}

/// 16 × `seq` ids: `[CLS]`, `seq − 2` pseudo-random word pieces, `[SEP]`; labels alternate.
fn batch_ids(seq: usize) -> (Vec<Vec<i64>>, Vec<i64>) {
    let mut rng = SplitMix64::new(0x6265_7274);
    let ids = (0..BATCH)
        .map(|_| {
            let mut row = vec![101i64];
            row.extend((0..seq - 2).map(|_| 1996 + rng.below(28_000) as i64));
            row.push(102);
            row
        })
        .collect();
    (ids, (0..BATCH as i64).map(|i| i % 2).collect())
}

/// One mode's model, optimizer and forward hooks.
struct Trainee {
    name: &'static str,
    model: BertClassifier,
    optim: Optimizer,
    lr: f64,
    activation_space: bool,
    trainable: usize,
}

fn trainee(name: &'static str, base: &BertClassifier, device: &Device) -> Trainee {
    let saved = vec!["classifier".to_string()];
    let lora = |activation_space: bool| LoraConfig {
        alpha: 16.0,
        activation_space,
        ..LoraConfig::new(TargetModules::Names(vec!["query".into(), "value".into()])).with_r(8)
    };
    let (model, lr, activation_space) = match name {
        "full" => (base.clone(), 5e-5, false),
        "frozen" => (unfreeze_saved(base.clone().no_grad(), &saved).expect("classifier"), 1e-3, false),
        "lora" | "lora-weight" => {
            let config = lora(name == "lora");
            let model = config.apply_plastic(base.clone()).expect("lora").0;
            (unfreeze_saved(model, &saved).expect("classifier"), 1e-3, config.activation_space)
        }
        _ => unreachable!(),
    };
    let config = OptimizerConfig::Adamw(AdamWConfig { lr, ..AdamWConfig::default() });
    let trainable = param_infos(&model).iter().filter(|p| p.trainable).map(|p| p.count()).sum();
    Trainee {
        name,
        optim: Optimizer::build(&config, Vec::new(), true, device),
        model,
        lr,
        activation_space,
        trainable,
    }
}

/// One optimizer step; `mark(k)` after phase k (0: forward + loss, 1: backward, 2: gradients
/// gathered and the optimizer's update).
fn step(t: &mut Trainee, input: &Tokens, targets: &Tensor<1, Int>, device: &Device, mark: &mut dyn FnMut(usize)) {
    let hooks: Vec<Box<dyn Hook>> = match t.activation_space {
        true => vec![Box::new(ActivationLora::default())],
        false => Vec::new(),
    };
    let logits = t.model.forward_hooked(input.clone(), &Hooks::new(hooks));
    let loss = CrossEntropyLossConfig::new().init(device).forward(logits, targets.clone());
    mark(0);
    let grads = loss.backward();
    mark(1);
    let grads = GradientsParams::from_grads(grads, &t.model);
    t.model = t.optim.step(t.lr, t.model.clone(), grads);
    mark(2);
}

fn main() {
    let o = options();
    // As the CLI does first thing (glibc's malloc thresholds; see `tune_cpu_process`).
    if std::env::var_os("BENCH_PLAIN_MALLOC").is_none() {
        plasticity::train::device::tune_cpu_process();
    }
    let device = Device::flex().autodiff();
    let (_, encoder) = load_pretrained(&o.pretrained, &device)
        .unwrap_or_else(|e| panic!("{}: {e} (set PLASTICITY_DATA or --pretrained)", o.pretrained.display()));
    device.seed(0);
    let base = BertClassifier::new(encoder, CLASSES, Pooling::Mean, &device);
    let _ = param_infos(&base);
    let (ids, labels) = batch_ids(o.seq);
    std::fs::create_dir_all("target/bench").expect("target/bench");
    std::fs::write("target/bench/bert_batch.json", json!({"input_ids": ids, "labels": labels}).to_string()).expect("batch");
    let flat: Vec<i64> = ids.iter().flatten().copied().collect();
    let input = Tokens {
        ids: Tensor::<2, Int>::from_data(TensorData::new(flat, [BATCH, o.seq]), &device),
        mask: Tensor::<2>::ones([BATCH, o.seq], &device),
    };
    let targets = Tensor::<1, Int>::from_data(TensorData::new(labels, [BATCH]), &device);

    let modes: Vec<&'static str> = MODES.iter().copied().filter(|m| o.modes.iter().any(|x| x == m)).collect();
    assert!(!modes.is_empty(), "--modes: none of {:?} among {MODES:?}", o.modes);
    let mut trainees: Vec<Trainee> = modes.iter().map(|m| trainee(m, &base, &device)).collect();
    for t in trainees.iter_mut() {
        for _ in 0..o.warmup {
            step(t, &input, &targets, &device, &mut |_| {});
        }
        device.sync().expect("sync");
    }
    let mut times = vec![Vec::new(); trainees.len()];
    for _ in 0..o.repeats {
        for (t, times) in trainees.iter_mut().zip(times.iter_mut()) {
            let start = Instant::now();
            for _ in 0..o.steps {
                step(t, &input, &targets, &device, &mut |_| {});
            }
            device.sync().expect("sync");
            times.push(start.elapsed().as_secs_f64() / o.steps as f64);
        }
    }
    // Where the time goes: each phase followed by a sync, `steps` steps per mode.
    let mut phases = vec![[0.0f64; 3]; trainees.len()];
    for (t, phases) in trainees.iter_mut().zip(phases.iter_mut()) {
        for _ in 0..o.steps {
            let mut last = Instant::now();
            step(t, &input, &targets, &device, &mut |k| {
                device.sync().expect("sync");
                phases[k] += last.elapsed().as_secs_f64() / o.steps as f64;
                last = Instant::now();
            });
        }
    }
    let full = median(&times[0]);
    let rows: Vec<_> = trainees
        .iter()
        .zip(&times)
        .zip(&phases)
        .map(|((t, times), phases)| {
            let s = median(times);
            json!({
                "mode": t.name,
                "trainable_parameters": t.trainable,
                "seconds_per_step": s,
                "slowest_repeat": times.iter().copied().fold(0.0, f64::max),
                "vs_full": s / full,
                "lr": t.lr,
                "phases_seconds": {"forward_and_loss": phases[0], "backward": phases[1], "optimizer": phases[2]},
            })
        })
        .collect();
    let out = json!({
        "model": "all-MiniLM-L6-v2 + linear head (mean pooling, 2 classes)",
        "batch": BATCH,
        "sequence_length": o.seq,
        "threads": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "steps": o.steps,
        "warmup": o.warmup,
        "repeats": o.repeats,
        "rows": rows,
    });
    let text = serde_json::to_string_pretty(&out).expect("json");
    println!("{text}");
    std::fs::write(&o.out, text).expect("write the JSON");
}
