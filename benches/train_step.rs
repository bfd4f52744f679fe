//! Train-step throughput: MLP 784-256-256-10, batch 128, Adam (lr 1e-3), cross-entropy.
//!
//! `cargo bench --bench train_step [--features ndarray]` times, on every CPU backend compiled in
//! (flex always, ndarray with the feature), these variants and writes their medians to
//! `target/bench/train_step.json` (read by `scripts/bench.sh`, which compares them with
//! `bench/torch_train_step.py`):
//!
//! * `plain`: the plain Burn loop ([`plain_step`] with `AdamConfig::new().init()`);
//! * `step`: plasticity's training step, `plasticity_train::task::train_step` (what
//!   `plasticity train` runs per batch: hooks, loss and correct count read to the host, backward,
//!   the methods' rules around the update), with Burn's Adam;
//! * `+ours`: plasticity's Adam (`plasticity_core::optim`, one fused pass over host memory per
//!   parameter) instead of Burn's `Adam`;
//! * `+malloc`: after `plasticity_train::device::tune_cpu_process` (glibc keeps freed buffers
//!   instead of unmapping them);
//! * `+ftz`: in a child process that flushes denormals to zero ([`flush_denormals`]).
//!
//! Batches are generated before timing; each timed repeat runs `steps` steps and ends with
//! `device.sync()`.
//!
//! Options (after `--`): `--steps N` (default 100), `--warmup N` (20), `--repeats N` (7),
//! `--phases` (also time the phases of one step, each followed by a sync), `--only A,B`
//! (these variants), `--backend flex|ndarray`, `--out PATH`, `--ftz` (this process flushes
//! denormals), `--no-ftz-child`.
//!
//! Denormals: on these random batches Adam kills most ReLU units within ~100 steps; the first
//! moments of their weights then decay by beta_1 per step and turn subnormal after ~650 steps,
//! which slows Intel CPUs down 3-4x from there on. The `+ftz` variants flush denormals to
//! zero; the flags must be set before any worker thread starts, so the bench re-runs itself
//! with `--ftz` for them and merges that child's results.

mod common;

use common::{BATCH, BATCHES, CLASSES, INPUT, LR, batches, median, model};

use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::Device;
use plasticity_core::optim::{Implementation, Optimizer, OptimizerConfig};
use plasticity_core::{ClassBatch, PlasticModel};
use plasticity_models::Mlp;
use plasticity_train::history::History;
use plasticity_train::task::{TaskSpec, TrainState, train_step};
use plasticity_train::{Methods, Trainee};
use std::time::Instant;

struct Options {
    steps: usize,
    warmup: usize,
    repeats: usize,
    phases: bool,
    ftz: bool,
    only: Option<Vec<String>>,
    ftz_child: bool,
    backend: Option<String>,
    out: String,
}

fn options() -> Options {
    let mut o = Options {
        steps: 100,
        warmup: 20,
        repeats: 7,
        phases: false,
        ftz: false,
        only: None,
        ftz_child: true,
        backend: None,
        out: concat!(env!("CARGO_MANIFEST_DIR"), "/target/bench/train_step.json").into(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--steps" => o.steps = value().parse().expect("--steps N"),
            "--warmup" => o.warmup = value().parse().expect("--warmup N"),
            "--repeats" => o.repeats = value().parse().expect("--repeats N"),
            "--only" => o.only = Some(value().split(',').map(String::from).collect()),
            "--backend" => o.backend = Some(value()),
            "--out" => o.out = value(),
            "--phases" => o.phases = true,
            "--ftz" => o.ftz = true,
            "--no-ftz-child" => o.ftz_child = false,
            _ => {} // `--bench` and other harness flags cargo passes
        }
    }
    o
}

/// Sets the x86 flush-to-zero and denormals-are-zero flags of this thread (threads it creates
/// later, such as rayon's workers, inherit them).
fn flush_denormals() -> bool {
    #[cfg(target_arch = "x86_64")]
    #[allow(deprecated)]
    unsafe {
        use std::arch::x86_64::{_mm_getcsr, _mm_setcsr};
        _mm_setcsr(_mm_getcsr() | 0x8040);
        true
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// One training step on one batch; `state` is whatever the variant carries between steps.
type StepFn<S> = fn(S, &ClassBatch, &mut Optimizer) -> S;

/// (a) The plain Burn loop: forward, `CrossEntropyLoss`, backward, `from_grads`, `optim.step`.
fn plain_step(model: Mlp, batch: &ClassBatch, optim: &mut Optimizer) -> Mlp {
    let logits = model.forward(batch.input.clone());
    let loss = CrossEntropyLossConfig::new()
        .init(&logits.device())
        .forward(logits, batch.targets.clone());
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    optim.step(LR, model, grads)
}

/// The state `train_step` carries; its own optimizer is swapped in and out around each step.
struct StepState {
    state: Option<TrainState<Mlp>>,
    spec: TaskSpec,
}

/// (b) plasticity's real path: `plasticity_train::task::train_step` (hooks, loss and correct
/// count read to the host, backward, the methods' rules around the optimizer update).
fn task_step(mut s: StepState, batch: &ClassBatch, optim: &mut Optimizer) -> StepState {
    let mut state = s.state.take().expect("state");
    std::mem::swap(&mut state.optimizer, optim);
    let mut state = train_step(state, batch.clone(), &s.spec, 1, 1).expect("step");
    std::mem::swap(&mut state.optimizer, optim);
    s.state = Some(state);
    s
}

fn task_state(device: &Device) -> StepState {
    let schedule = burn::lr_scheduler::module_lr_scheduler::ModuleLrScheduler::new(LR);
    let state = TrainState {
        trainee: Trainee::new(model(device)),
        methods: Methods::new(Vec::new()).expect("no methods"),
        optimizer: adam(),
        schedule,
        step: 0,
        history: History::default(),
    };
    let spec = TaskSpec {
        index: 0,
        epochs: 1,
        first_epoch: 1,
        batch_size: BATCH,
        eval_batch_size: BATCH,
        grad_clip_norm: None,
        shuffle_seed: 0,
        rng_seed: 0,
        logit_mask: None,
    };
    StepState {
        state: Some(state),
        spec,
    }
}

/// Burn's Adam with its defaults (ε = 1e-5).
fn adam() -> Optimizer {
    Optimizer::Burn(AdamConfig::new().init())
}

/// plasticity's Adam with the same hyperparameters as [`adam`], updating in host memory.
fn ours() -> Optimizer {
    let config = OptimizerConfig::Adam(plasticity_core::optim::AdamConfig {
        eps: 1e-5,
        implementation: Implementation::Plasticity,
        ..Default::default()
    });
    Optimizer::build(&config, Vec::new(), true, &Device::flex())
}

/// Largest |difference| of the logits after `steps` steps of Burn's Adam and of ours from the
/// same initial weights.
fn ours_vs_burn(device: &Device, steps: usize) -> f32 {
    let data = batches(device);
    let start = model(device);
    let _ = start.forward(data[0].input.clone()); // initialise the lazy params before cloning
    let mut a = start.clone();
    let mut b = start;
    let (mut oa, mut ob) = (adam(), ours());
    for i in 0..steps {
        a = plain_step(a, &data[i % BATCHES], &mut oa);
        b = plain_step(b, &data[i % BATCHES], &mut ob);
    }
    let x = data[0].input.clone();
    let diff = (a.forward(x.clone()) - b.forward(x)).abs().max();
    diff.into_scalar::<f32>()
}

struct Measured {
    backend: &'static str,
    variant: String,
    about: &'static str,
    repeats: Vec<f64>,
}

/// Warm up, then time `repeats` runs of `steps` steps; returns steps/s of each repeat.
fn time<S>(o: &Options, device: &Device, mut state: S, step: StepFn<S>, mut optim: Optimizer) -> Vec<f64> {
    let data = batches(device);
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
fn phases(o: &Options, device: &Device, mut optim: Optimizer) -> Vec<(&'static str, f64)> {
    let data = batches(device);
    let mut model = model(device);
    let names = [
        "forward",
        "loss",
        "backward",
        "from_grads",
        "optimizer",
        "host read (loss, correct)",
    ];
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
        let logits = model.forward(batch.input.clone());
        mark(0, &mut t);
        let loss = CrossEntropyLossConfig::new()
            .init(device)
            .forward(logits.clone(), batch.targets.clone());
        mark(1, &mut t);
        let grads = loss.backward();
        mark(2, &mut t);
        let grads = GradientsParams::from_grads(grads, &model);
        mark(3, &mut t);
        // As in the training step: the host read comes from the logits, and nothing of the
        // graph outlives the backward pass when the optimizer updates the parameters.
        let _ = plasticity_core::score(logits.detach(), batch.targets.clone());
        drop(loss);
        mark(5, &mut t);
        model = optim.step(LR, model, grads);
        mark(4, &mut t);
        if i >= o.warmup {
            total.iter_mut().zip(t).for_each(|(s, x)| *s += x);
        }
    }
    names
        .into_iter()
        .zip(total.map(|s| s / (n - o.warmup) as f64))
        .collect()
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

/// Variants run by the `--ftz` child process (named with a `+ftz` suffix).
const FTZ_VARIANTS: &str = "plain,step+malloc+ours";

/// Runs this bench again with `--ftz`, returns its JSON.
fn ftz_child(o: &Options) -> serde_json::Value {
    let out = format!("{}.ftz.json", o.out);
    let mut args: Vec<String> = ["--steps", &o.steps.to_string(), "--warmup", &o.warmup.to_string()]
        .into_iter()
        .map(String::from)
        .collect();
    args.extend([
        "--repeats".into(),
        o.repeats.to_string(),
        "--ftz".into(),
        "--out".into(),
        out.clone(),
    ]);
    args.extend(["--only".into(), FTZ_VARIANTS.into()]);
    if let Some(b) = &o.backend {
        args.extend(["--backend".into(), b.clone()]);
    }
    let exe = std::env::current_exe().expect("current exe");
    let status = std::process::Command::new(exe)
        .args(&args)
        .status()
        .expect("run the --ftz child");
    assert!(status.success(), "the --ftz child failed");
    serde_json::from_str(&std::fs::read_to_string(&out).expect("read the child's JSON")).expect("child JSON")
}

fn main() {
    let o = options();
    if o.ftz {
        assert!(flush_denormals(), "--ftz needs x86_64");
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let wanted = |name: &str| o.only.as_ref().is_none_or(|w| w.iter().any(|v| v == name));
    let suffix = if o.ftz { "+ftz" } else { "" };
    let devices: Vec<_> = backends()
        .into_iter()
        .filter(|(b, _)| o.backend.as_deref().is_none_or(|w| w == *b))
        .collect();
    println!(
        "train_step{suffix}: MLP {INPUT}-256-256-{CLASSES}, batch {BATCH}, Adam; {} steps x {} repeats after {} warm-up; {cores} cores",
        o.steps, o.repeats, o.warmup
    );
    let mut results: Vec<Measured> = Vec::new();
    let mut phase_rows = Vec::new();
    let mut record = |backend: &'static str, variant: &str, about: &'static str, repeats: Vec<f64>| {
        let variant = format!("{variant}{suffix}");
        println!(
            "{backend:>8} {variant:<28} {:>8.1} steps/s  (repeats {:.1?})",
            median(&repeats),
            repeats
        );
        results.push(Measured {
            backend,
            variant,
            about,
            repeats,
        });
    };
    let mut phases_of = |backend: &'static str, setup: &'static str, device: &Device, optim: Optimizer| {
        for (phase, ms) in phases(&o, device, optim) {
            println!("{backend:>8} {setup:<18} phase {phase:<26} {ms:>7.3} ms");
            phase_rows.push(serde_json::json!({"backend": backend, "setup": setup, "phase": phase, "ms": ms}));
        }
    };

    // Pass 1, glibc malloc as configured by default.
    for (backend, device) in &devices {
        if wanted("plain") {
            let rates = time(&o, device, model(device), plain_step, adam());
            record(backend, "plain", "plain Burn loop", rates);
        }
        if wanted("step") {
            let rates = time(&o, device, task_state(device), task_step, adam());
            record(backend, "step", "plasticity's train_step, Burn's Adam", rates);
        }
        if wanted("plain+ours") {
            let rates = time(&o, device, model(device), plain_step, ours());
            record(backend, "plain+ours", "plain Burn loop with plasticity's Adam", rates);
        }
        if wanted("step+ours") {
            let rates = time(&o, device, task_state(device), task_step, ours());
            record(backend, "step+ours", "plasticity's train_step and Adam", rates);
        }
        if o.phases {
            phases_of(backend, "plain", device, adam());
        }
    }

    // Pass 2, after `tune_cpu_process` (it cannot be undone within the process, hence the order).
    let pass_2 = ["plain+malloc", "step+malloc+ours"];
    let malloc_tuned = pass_2.iter().any(|v| wanted(v)) && plasticity_train::device::tune_cpu_process();
    let mut ours_max_diff = Vec::new();
    for (backend, device) in devices.iter().filter(|_| malloc_tuned) {
        if wanted("plain+malloc") {
            let rates = time(&o, device, model(device), plain_step, adam());
            record(backend, "plain+malloc", "plain Burn loop, malloc keeps freed buffers", rates);
        }
        if wanted("step+malloc+ours") {
            let rates = time(&o, device, task_state(device), task_step, ours());
            let about = "plasticity's train_step and Adam, malloc tuned (the CLI's setup)";
            record(backend, "step+malloc+ours", about, rates);
        }
        if o.phases {
            phases_of(backend, "malloc+ours", device, ours());
        }
        let diff = ours_vs_burn(device, 5);
        println!("{backend:>8} plasticity's Adam vs Burn's after 5 steps: max |logit difference| {diff:.3e}");
        assert!(diff < 1e-3, "plasticity's Adam diverges from Burn's on {backend}: {diff}");
        ours_max_diff.push(serde_json::json!({"backend": backend, "max_abs_logit_diff_5_steps": diff}));
    }

    let mut results: Vec<serde_json::Value> = results
        .iter()
        .map(|m| {
            serde_json::json!({
                "backend": m.backend,
                "variant": m.variant,
                "about": if o.ftz { format!("{}, denormals flushed (FTZ/DAZ)", m.about) } else { m.about.to_string() },
                "steps_per_s": median(&m.repeats),
                "slowest_repeat": m.repeats.iter().copied().fold(f64::INFINITY, f64::min),
                "repeats": m.repeats,
            })
        })
        .collect();
    if !o.ftz && o.ftz_child && cfg!(target_arch = "x86_64") {
        let child = ftz_child(&o);
        results.extend(child["results"].as_array().cloned().unwrap_or_default());
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
        "flush_denormals": o.ftz,
        "glibc_tunables": std::env::var("GLIBC_TUNABLES").ok(),
        "results": results,
        "phases_ms": phase_rows,
        "ours_vs_burn_adam_check": ours_max_diff,
    });
    if let Some(dir) = std::path::Path::new(&o.out).parent() {
        std::fs::create_dir_all(dir).expect("create output folder");
    }
    std::fs::write(&o.out, serde_json::to_string_pretty(&json).unwrap()).expect("write JSON");
    println!("wrote {}", o.out);
}
