//! Train-step throughput: MLP 784-256-256-10, batch 128, Adam (lr 1e-3), cross-entropy.
//!
//! `cargo bench --bench train_step [--features ndarray]` times, on every CPU backend compiled in
//! (flex always, ndarray with the feature), these variants and writes their medians to
//! `target/bench/train_step.json` (read by `scripts/bench.sh`, which compares them with
//! `bench/torch_train_step.py`):
//!
//! * `plain`: the plain Burn loop ([`plain_step`] with `AdamConfig::new().init()`);
//! * `trainee`: plasticity's `Trainee` `TrainStep::step` + `optimize` ([`trainee_step`]);
//! * `+fused`: [`FusedAdam`] instead of Burn's `Adam`;
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

use burn::lr_scheduler::module_lr_scheduler::ModuleLearningRate;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, Optimizer, RecordState, StateSink, StateSource};
use burn::tensor::{Device, Tensor, TensorData};
use burn::train::{Interrupter, TrainStep};
use plasticity_data::ClassBatch;
use plasticity_models::{Mlp, PlasticModel};
use plasticity_train::history::History;
use plasticity_train::{Extensions, TrainContext, Trainee};
use std::sync::Arc;
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
type StepFn<S> = fn(S, &ClassBatch, &mut ModuleOptimizer) -> S;

/// (a) The plain Burn loop: forward, `CrossEntropyLoss`, backward, `from_grads`, `optim.step`.
fn plain_step(model: Mlp, batch: &ClassBatch, optim: &mut ModuleOptimizer) -> Mlp {
    let logits = model.forward(batch.images.clone());
    let loss = CrossEntropyLossConfig::new()
        .init(&logits.device())
        .forward(logits, batch.targets.clone());
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    optim.step(LR, model, grads)
}

/// (b) plasticity's real path: `Trainee`'s `TrainStep::step` (forward, loss + correct count read
/// to the host, backward) then `optimize` (optional clipping, `optim.step`, step counter).
fn trainee_step(trainee: Trainee<Mlp>, batch: &ClassBatch, optim: &mut ModuleOptimizer) -> Trainee<Mlp> {
    let batch = ClassBatch {
        images: batch.images.clone(),
        targets: batch.targets.clone(),
    };
    let out = TrainStep::step(&trainee, batch);
    trainee.optimize(optim, ModuleLearningRate::from(LR), out.grads)
}

fn trainee(device: &Device) -> Trainee<Mlp> {
    let ctx = TrainContext::new(
        1000,
        None,
        History::default(),
        Interrupter::new(),
        Extensions::<Mlp>::default(),
    );
    Trainee::new(model(device), None, Arc::new(ctx), device)
}

/// Adam as one pass over host memory per parameter, instead of Burn's ~12 tensor ops (each a
/// full read/write of the parameter and, in general, a fresh allocation). Same update as
/// `burn::optim::Adam` (bias corrections folded into the step size and epsilon), plus
/// optional L2 weight decay. The moments live in plain `Vec<f32>`s, so no backend op runs for
/// them; on flex `into_data`/`from_data` of a uniquely owned contiguous tensor move the buffer
/// without a copy, so the parameter is updated in place. On a GPU this would read the tensor
/// back to the host: it is meant for CPU backends.
#[derive(Clone)]
struct FusedAdam {
    beta_1: f32,
    beta_2: f32,
    epsilon: f32,
    weight_decay: f32,
}

impl Default for FusedAdam {
    /// `AdamConfig::new()`'s defaults.
    fn default() -> Self {
        Self {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-5,
            weight_decay: 0.0,
        }
    }
}

#[derive(Clone)]
struct FusedAdamState<const D: usize> {
    time: usize,
    moment_1: Vec<f32>,
    moment_2: Vec<f32>,
}

impl<const D: usize> RecordState for FusedAdamState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        let n = self.moment_1.len();
        out.push_tensor(prefix, "time", TensorData::new(vec![self.time as f32], [1]));
        out.push_tensor(prefix, "moment_1", TensorData::new(self.moment_1.clone(), [n]));
        out.push_tensor(prefix, "moment_2", TensorData::new(self.moment_2.clone(), [n]));
    }
    fn state_unflatten(prefix: &str, src: &mut StateSource, _device: &Device) -> Option<Self> {
        let vec = |d: TensorData| d.convert::<f32>().try_into_vec::<f32>().ok();
        Some(Self {
            time: vec(src.take_tensor(prefix, "time")?)?[0] as usize,
            moment_1: vec(src.take_tensor(prefix, "moment_1")?)?,
            moment_2: vec(src.take_tensor(prefix, "moment_2")?)?,
        })
    }
}

impl Optimizer for FusedAdam {
    type State<const D: usize> = FusedAdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: f64,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let device = tensor.device();
        let mut param = tensor.into_data().convert::<f32>();
        let grad = grad.into_data().convert::<f32>();
        let n = param.num_elements();
        let mut s = state.unwrap_or_else(|| FusedAdamState {
            time: 0,
            moment_1: vec![0.0; n],
            moment_2: vec![0.0; n],
        });
        s.time += 1;
        let t = s.time as i32;
        let (b1, b2) = (self.beta_1, self.beta_2);
        let bc2_sqrt = (1.0 - b2.powi(t)).sqrt();
        let step = lr as f32 * bc2_sqrt / (1.0 - b1.powi(t));
        let eps = self.epsilon * bc2_sqrt;
        let wd = self.weight_decay;
        let p = param.as_mut_slice::<f32>().expect("f32 parameter");
        let g = grad.as_slice::<f32>().expect("f32 gradient");
        for (((p, &g), m), v) in p
            .iter_mut()
            .zip(g)
            .zip(s.moment_1.iter_mut())
            .zip(s.moment_2.iter_mut())
        {
            let g = g + wd * *p;
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            *p -= step * *m / (v.sqrt() + eps);
        }
        (Tensor::from_data(param, &device), Some(s))
    }

    fn to_device<const D: usize>(state: Self::State<D>, _device: &Device) -> Self::State<D> {
        state
    }
}

fn adam() -> ModuleOptimizer {
    AdamConfig::new().init()
}

fn fused_adam() -> ModuleOptimizer {
    FusedAdam::default().into()
}

/// Largest |difference| of the logits after `steps` steps of Burn's Adam and of [`FusedAdam`]
/// from the same initial weights.
fn fused_adam_difference(device: &Device, steps: usize) -> f32 {
    let data = batches(device);
    let start = model(device);
    let _ = start.forward(data[0].images.clone()); // initialise the lazy params before cloning
    let mut a = start.clone();
    let mut b = start;
    let (mut oa, mut ob) = (adam(), fused_adam());
    for i in 0..steps {
        a = plain_step(a, &data[i % BATCHES], &mut oa);
        b = plain_step(b, &data[i % BATCHES], &mut ob);
    }
    let x = data[0].images.clone();
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
fn time<S>(o: &Options, device: &Device, mut state: S, step: StepFn<S>, mut optim: ModuleOptimizer) -> Vec<f64> {
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
fn phases(o: &Options, device: &Device, mut optim: ModuleOptimizer) -> Vec<(&'static str, f64)> {
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
        let logits = model.forward(batch.images.clone());
        mark(0, &mut t);
        let loss = CrossEntropyLossConfig::new()
            .init(device)
            .forward(logits.clone(), batch.targets.clone());
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
const FTZ_VARIANTS: &str = "plain,trainee+malloc+fused";

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
    let mut phases_of = |backend: &'static str, setup: &'static str, device: &Device, optim: ModuleOptimizer| {
        for (phase, ms) in phases(&o, device, optim) {
            println!("{backend:>8} {setup:<18} phase {phase:<26} {ms:>7.3} ms");
            phase_rows.push(serde_json::json!({"backend": backend, "setup": setup, "phase": phase, "ms": ms}));
        }
    };

    // Pass 1, glibc malloc as configured by default.
    for (backend, device) in &devices {
        if wanted("plain") {
            record(
                backend,
                "plain",
                "plain Burn loop",
                time(&o, device, model(device), plain_step, adam()),
            );
        }
        if wanted("trainee") {
            let about = "plasticity Trainee step + optimize";
            record(
                backend,
                "trainee",
                about,
                time(&o, device, trainee(device), trainee_step, adam()),
            );
        }
        if wanted("plain+fused") {
            let about = "plain Burn loop with FusedAdam";
            record(
                backend,
                "plain+fused",
                about,
                time(&o, device, model(device), plain_step, fused_adam()),
            );
        }
        if o.phases {
            phases_of(backend, "plain", device, adam());
        }
    }

    // Pass 2, after `tune_cpu_process` (it cannot be undone within the process, hence the order).
    let pass_2 = ["plain+malloc", "plain+malloc+fused", "trainee+malloc+fused"];
    let malloc_tuned = pass_2.iter().any(|v| wanted(v)) && plasticity_train::device::tune_cpu_process();
    let mut fused_adam_max_diff = Vec::new();
    for (backend, device) in devices.iter().filter(|_| malloc_tuned) {
        if wanted("plain+malloc") {
            let about = "plain Burn loop, malloc keeps freed buffers";
            record(
                backend,
                "plain+malloc",
                about,
                time(&o, device, model(device), plain_step, adam()),
            );
        }
        if wanted("plain+malloc+fused") {
            let about = "plain loop, malloc tuned, FusedAdam";
            record(
                backend,
                "plain+malloc+fused",
                about,
                time(&o, device, model(device), plain_step, fused_adam()),
            );
        }
        if wanted("trainee+malloc+fused") {
            let about = "Trainee step + optimize, malloc tuned, FusedAdam";
            record(
                backend,
                "trainee+malloc+fused",
                about,
                time(&o, device, trainee(device), trainee_step, fused_adam()),
            );
        }
        if o.phases {
            phases_of(backend, "malloc+fused", device, fused_adam());
        }
        let diff = fused_adam_difference(device, 5);
        println!("{backend:>8} FusedAdam vs Adam after 5 steps: max |logit difference| {diff:.3e}");
        assert!(diff < 1e-3, "FusedAdam diverges from Burn's Adam on {backend}: {diff}");
        fused_adam_max_diff.push(serde_json::json!({"backend": backend, "max_abs_logit_diff_5_steps": diff}));
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
        "fused_adam_check": fused_adam_max_diff,
    });
    if let Some(dir) = std::path::Path::new(&o.out).parent() {
        std::fs::create_dir_all(dir).expect("create output folder");
    }
    std::fs::write(&o.out, serde_json::to_string_pretty(&json).unwrap()).expect("write JSON");
    println!("wrote {}", o.out);
}
