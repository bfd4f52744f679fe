//! Train-step throughput: MLP 784-256-256-10, batch 128, Adam (lr 1e-3), cross-entropy.
//!
//! `cargo bench --bench train_step [--features ndarray]` times, on every CPU backend compiled in
//! (flex always, ndarray with the feature), the variants listed in [`VARIANTS`], and writes the
//! medians to `target/bench/train_step.json` (read by `scripts/bench.sh`, which compares them
//! with `bench/torch_train_step.py`). Batches are generated before timing; each timed repeat
//! runs `steps` steps and ends with `device.sync()`.
//!
//! Options (after `--`): `--steps N` (default 100), `--warmup N` (20), `--repeats N` (7),
//! `--phases` (also time the phases of one step, each followed by a sync), `--only NAME`
//! (variants whose name contains NAME), `--out PATH`.

use burn::lr_scheduler::module_lr_scheduler::ModuleLearningRate;
use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Int, Tensor, TensorData};
use burn::train::{Interrupter, TrainStep};
use plasticity_data::ClassBatch;
use plasticity_models::{Activation, Mlp, MlpConfig, PlasticModel};
use plasticity_train::history::History;
use plasticity_train::{Extensions, TrainContext, Trainee};
use std::sync::Arc;
use std::time::Instant;

const BATCH: usize = 128;
const INPUT: usize = 784;
const CLASSES: usize = 10;
const LR: f64 = 1e-3;
/// Distinct pre-generated batches, used in turn.
const BATCHES: usize = 4;

struct Options {
    steps: usize,
    warmup: usize,
    repeats: usize,
    phases: bool,
    only: Option<String>,
    out: String,
}

fn options() -> Options {
    let mut o = Options {
        steps: 100,
        warmup: 20,
        repeats: 7,
        phases: false,
        only: None,
        out: concat!(env!("CARGO_MANIFEST_DIR"), "/target/bench/train_step.json").into(),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = || args.get(i + 1).cloned().unwrap_or_else(|| panic!("{} needs a value", args[i]));
        match args[i].as_str() {
            "--steps" => o.steps = value().parse().expect("--steps N"),
            "--warmup" => o.warmup = value().parse().expect("--warmup N"),
            "--repeats" => o.repeats = value().parse().expect("--repeats N"),
            "--only" => o.only = Some(value()),
            "--out" => o.out = value(),
            "--phases" => {
                o.phases = true;
                i -= 1;
            }
            _ => i -= 1, // `--bench` and other harness flags cargo passes
        }
        i += 2;
    }
    o
}

fn model(device: &Device) -> Mlp {
    MlpConfig { input: INPUT, hidden: vec![256, 256], classes: CLASSES, activation: Activation::Relu }.init(device)
}

/// Fixed pseudo-random batches (a small LCG: identical on every backend and run).
fn batches(device: &Device) -> Vec<ClassBatch> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as u32
    };
    (0..BATCHES)
        .map(|_| {
            let x: Vec<f32> = (0..BATCH * INPUT).map(|_| next() as f32 / u32::MAX as f32 * 2.0 - 1.0).collect();
            let y: Vec<i64> = (0..BATCH).map(|_| (next() % CLASSES as u32) as i64).collect();
            ClassBatch {
                images: Tensor::<2>::from_data(TensorData::new(x, [BATCH, INPUT]), device),
                targets: Tensor::<1, Int>::from_data(TensorData::new(y, [BATCH]), device),
            }
        })
        .collect()
}

/// One training step on one batch; `state` is whatever the variant carries between steps.
type StepFn<S> = fn(S, &ClassBatch, &mut ModuleOptimizer) -> S;

/// (a) The plain Burn loop: forward, `CrossEntropyLoss`, backward, `from_grads`, `optim.step`.
fn plain_step(model: Mlp, batch: &ClassBatch, optim: &mut ModuleOptimizer) -> Mlp {
    let logits = model.forward(batch.images.clone());
    let loss = CrossEntropyLossConfig::new().init(&logits.device()).forward(logits, batch.targets.clone());
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    optim.step(LR, model, grads)
}

/// (b) plasticity's real path: `Trainee`'s `TrainStep::step` (forward, loss + correct count read
/// to the host, backward) then `optimize` (optional clipping, `optim.step`, step counter).
fn trainee_step(trainee: Trainee<Mlp>, batch: &ClassBatch, optim: &mut ModuleOptimizer) -> Trainee<Mlp> {
    let batch = ClassBatch { images: batch.images.clone(), targets: batch.targets.clone() };
    let out = TrainStep::step(&trainee, batch);
    trainee.optimize(optim, ModuleLearningRate::from(LR), out.grads)
}

fn trainee(device: &Device) -> Trainee<Mlp> {
    let ctx = TrainContext::new(1000, None, History::default(), Interrupter::new(), Extensions::<Mlp>::default());
    Trainee::new(model(device), Arc::new(ctx), device)
}

struct Measured {
    backend: &'static str,
    variant: &'static str,
    about: &'static str,
    repeats: Vec<f64>,
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

/// Warm up, then time `repeats` runs of `steps` steps; returns steps/s of each repeat.
fn time<S>(o: &Options, device: &Device, mut state: S, step: StepFn<S>) -> Vec<f64> {
    let data = batches(device);
    let mut optim = AdamConfig::new().init();
    let mut i = 0;
    for _ in 0..o.warmup {
        state = step(state, &data[i % BATCHES], &mut optim);
        i += 1;
    }
    device.sync().expect("sync");
    let mut rates = Vec::with_capacity(o.repeats);
    for _ in 0..o.repeats {
        let start = Instant::now();
        for _ in 0..o.steps {
            state = step(state, &data[i % BATCHES], &mut optim);
            i += 1;
        }
        device.sync().expect("sync");
        rates.push(o.steps as f64 / start.elapsed().as_secs_f64());
    }
    rates
}

/// Mean milliseconds of each phase of the plain loop, with a sync after every phase.
fn phases(o: &Options, device: &Device) -> Vec<(&'static str, f64)> {
    let data = batches(device);
    let mut optim = AdamConfig::new().init();
    let mut model = model(device);
    let names = ["forward", "loss", "backward", "from_grads", "optimizer", "host read (loss, correct)"];
    let mut total = [0.0f64; 6];
    let n = o.warmup + o.steps * 2;
    for i in 0..n {
        let batch = &data[i % BATCHES];
        let mut t = [0.0f64; 6];
        let mut lap = Instant::now();
        let mut mark = |k: usize, t: &mut [f64; 6]| {
            device.sync().expect("sync");
            t[k] = lap.elapsed().as_secs_f64() * 1e3;
            lap = Instant::now();
        };
        let logits = model.forward(batch.images.clone());
        mark(0, &mut t);
        let loss = CrossEntropyLossConfig::new().init(device).forward(logits.clone(), batch.targets.clone());
        mark(1, &mut t);
        let grads = loss.backward();
        mark(2, &mut t);
        let grads = GradientsParams::from_grads(grads, &model);
        mark(3, &mut t);
        model = optim.step(LR, model, grads);
        mark(4, &mut t);
        let _ = plasticity_train::trainee::score(logits.detach(), batch.targets.clone());
        mark(5, &mut t);
        if i >= o.warmup {
            total.iter_mut().zip(t).for_each(|(s, x)| *s += x);
        }
    }
    names.into_iter().zip(total.map(|s| s / (n - o.warmup) as f64)).collect()
}

fn backends() -> Vec<(&'static str, Device)> {
    let mut list = Vec::new();
    #[cfg(feature = "flex")]
    list.push(("flex", Device::flex().autodiff()));
    #[cfg(feature = "ndarray")]
    #[allow(deprecated)]
    list.push(("ndarray", Device::ndarray().autodiff()));
    list
}

fn main() {
    let o = options();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let wanted = |name: &str| o.only.as_deref().is_none_or(|w| name.contains(w));
    println!(
        "train_step: MLP {INPUT}-256-256-{CLASSES}, batch {BATCH}, Adam; {} steps x {} repeats after {} warm-up; {cores} cores",
        o.steps, o.repeats, o.warmup
    );
    let mut results: Vec<Measured> = Vec::new();
    let mut phase_rows = Vec::new();
    for (backend, device) in backends() {
        let mut record = |variant: &'static str, about: &'static str, repeats: Vec<f64>| {
            println!("{backend:>8} {variant:<24} {:>8.1} steps/s  (repeats {:.1?})", median(&repeats), repeats);
            results.push(Measured { backend, variant, about, repeats });
        };
        if wanted("plain") {
            record("plain", "plain Burn loop", time(&o, &device, model(&device), plain_step));
        }
        if wanted("trainee") {
            record("trainee", "plasticity Trainee step + optimize", time(&o, &device, trainee(&device), trainee_step));
        }
        if o.phases {
            for (phase, ms) in phases(&o, &device) {
                println!("{backend:>8} phase {phase:<28} {ms:>7.3} ms");
                phase_rows.push(serde_json::json!({"backend": backend, "phase": phase, "ms": ms}));
            }
        }
    }
    let json = serde_json::json!({
        "benchmark": "train_step",
        "model": format!("MLP {INPUT}-256-256-{CLASSES}, ReLU"),
        "batch": BATCH,
        "optimizer": "Adam lr 1e-3 (Burn defaults: betas 0.9/0.999, eps 1e-5)",
        "steps": o.steps,
        "warmup": o.warmup,
        "repeats": o.repeats,
        "cores": cores,
        "rayon_num_threads": std::env::var("RAYON_NUM_THREADS").ok(),
        "results": results.iter().map(|m| serde_json::json!({
            "backend": m.backend,
            "variant": m.variant,
            "about": m.about,
            "steps_per_s": median(&m.repeats),
            "repeats": m.repeats,
        })).collect::<Vec<_>>(),
        "phases_ms": phase_rows,
    });
    if let Some(dir) = std::path::Path::new(&o.out).parent() {
        std::fs::create_dir_all(dir).expect("create output folder");
    }
    std::fs::write(&o.out, serde_json::to_string_pretty(&json).unwrap()).expect("write JSON");
    println!("wrote {}", o.out);
}
