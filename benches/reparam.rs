//! Cost of the weight reparameterizations against the plain model, on the flex CPU backend:
//! train-step time and inference forward (reparameterized, and after `materialize()`), for the
//! MLP 784-256-256-10 and the CNN (conv 5×5 ×8, conv 5×5 ×16, fc 120), batch 128, Adam lr 1e-3.
//!
//! `cargo bench --bench reparam [-- --repeats N --steps N]` writes the medians to
//! `target/bench/reparam.json`; `bench/torch_reparam.py` times the same models with
//! `torch.nn.utils.parametrizations.weight_norm` (and a compander parametrization) for the
//! ratios against PyTorch (docs/reparam.md, "Cost").
//!
//! Train steps round-robin over the variants in every repeat, so that a change of load hits
//! them alike; each timed block ends with `device.sync()`.

mod common;

use common::{BATCH, batches, median};
use plasticity::burn::nn::loss::CrossEntropyLossConfig;
use plasticity::burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use plasticity::burn::tensor::{Device, Tensor};
use plasticity::core::{AttachContext, PlasticModel};
use plasticity::models::{CnnConfig, MlpConfig, WithModel};
use plasticity::reparam::ReparamConfig;
use std::time::Instant;

const VARIANTS: [(&str, Option<&str>); 5] = [
    ("plain", None),
    ("weight-norm", Some(r#"{"method": "weight-norm"}"#)),
    ("compander", Some(r#"{"method": "compander"}"#)),
    ("compander-learned", Some(r#"{"method": "compander", "learn": true}"#)),
    // No transcendental function: where the default μ-law's `ln_1p` time goes (docs/reparam.md).
    ("compander-saturating", Some(r#"{"method": "compander", "form": "saturating"}"#)),
];

struct Options {
    steps: usize,
    forwards: usize,
    repeats: usize,
    out: String,
}

fn options() -> Options {
    let mut o = Options {
        steps: 30,
        forwards: 50,
        repeats: 7,
        out: "target/bench/reparam.json".into(),
    };
    let args: Vec<String> = std::env::args().collect();
    let value = |i: usize| args.get(i + 1).cloned().unwrap_or_default();
    for (i, a) in args.iter().enumerate() {
        match a.as_str() {
            "--steps" => o.steps = value(i).parse().expect("--steps N"),
            "--forwards" => o.forwards = value(i).parse().expect("--forwards N"),
            "--repeats" => o.repeats = value(i).parse().expect("--repeats N"),
            "--out" => o.out = value(i),
            _ => {}
        }
    }
    o
}

/// The model with `variant`'s reparameterization attached.
fn attach<M: PlasticModel>(model: M, variant: Option<&str>, device: &Device) -> M {
    let Some(json) = variant else { return model };
    let config: ReparamConfig = serde_json::from_str(json).expect("variant config");
    let cx = AttachContext {
        device,
        total_steps: 1,
        run_dir: None,
    };
    config.build::<M>().attach(model, &cx).unwrap_or_else(|e| panic!("{json}: {e}"))
}

/// Times one model kind: returns `{variant: {train_step_ms, forward_ms, merged_forward_ms}}`.
struct Time<'a> {
    o: &'a Options,
    device: Device,
}

impl WithModel for Time<'_> {
    type Output = serde_json::Value;
    fn run<M: PlasticModel<Input = Tensor<2>>>(self, base: M) -> serde_json::Value {
        let (o, device) = (self.o, &self.device);
        let _ = plasticity::core::param_infos(&base);
        let data = batches(device);
        let loss_fn = CrossEntropyLossConfig::new().init(device);
        let mut subjects: Vec<(M, ModuleOptimizer)> = VARIANTS
            .iter()
            .map(|(_, v)| (attach(base.clone(), *v, device), AdamConfig::new().init()))
            .collect();
        let mut steps = vec![Vec::new(); VARIANTS.len()];
        for repeat in 0..=o.repeats {
            for (k, slot) in subjects.iter_mut().enumerate() {
                let (mut model, mut optim) = (slot.0.clone(), std::mem::replace(&mut slot.1, AdamConfig::new().init()));
                let start = Instant::now();
                for s in 0..o.steps {
                    let b = &data[s % data.len()];
                    let loss = loss_fn.forward(model.forward(b.input.clone()), b.targets.clone());
                    let grads = GradientsParams::from_grads(loss.backward(), &model);
                    model = optim.step(common::LR, model, grads);
                }
                device.sync().expect("sync");
                if repeat > 0 {
                    steps[k].push(start.elapsed().as_secs_f64() * 1e3 / o.steps as f64);
                }
                *slot = (model, optim);
            }
        }
        let mut out = serde_json::Map::new();
        for (k, (name, _)) in VARIANTS.iter().enumerate() {
            let model = subjects[k].0.valid();
            let merged = model.clone().materialize();
            let x: Vec<Tensor<2>> = data.iter().map(|b| b.input.clone().inner()).collect();
            let time = |f: &dyn Fn(Tensor<2>) -> Tensor<2>| {
                let mut t = Vec::new();
                for _ in 0..o.repeats {
                    let start = Instant::now();
                    for i in 0..o.forwards {
                        let _ = f(x[i % x.len()].clone());
                    }
                    device.sync().expect("sync");
                    t.push(start.elapsed().as_secs_f64() * 1e3 / o.forwards as f64);
                }
                median(&t)
            };
            let forward = time(&|x| model.forward(x));
            let merged_forward = time(&|x| merged.forward(x));
            out.insert(
                name.to_string(),
                serde_json::json!({
                    "train_step_ms": median(&steps[k]),
                    "train_step_spread": (steps[k].iter().cloned().fold(f64::MIN, f64::max)
                        - steps[k].iter().cloned().fold(f64::MAX, f64::min)) / median(&steps[k]),
                    "forward_ms": forward,
                    "merged_forward_ms": merged_forward,
                }),
            );
        }
        serde_json::Value::Object(out)
    }

    /// The benchmark times image models only.
    fn run_tokens<M: PlasticModel<Input = plasticity::core::Tokens>>(self, _base: M) -> serde_json::Value {
        serde_json::Value::Null
    }
}

fn main() {
    let o = options();
    let device = Device::flex().autodiff();
    let mlp = plasticity::models::ModelConfig::Mlp(MlpConfig::default()).build(
        &device,
        Time {
            o: &o,
            device: device.clone(),
        },
    )
    .expect("an MLP builds");
    let cnn_config = CnnConfig {
        channels: [8, 16],
        hidden: 120,
        ..Default::default()
    };
    let cnn = plasticity::models::ModelConfig::Cnn(cnn_config).build(
        &device,
        Time {
            o: &o,
            device: device.clone(),
        },
    )
    .expect("a CNN builds");
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let report = serde_json::json!({
        "batch": BATCH,
        "steps": o.steps,
        "repeats": o.repeats,
        "backend": "flex",
        "load_average_at_end": load.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
        "mlp": mlp,
        "cnn": cnn,
    });
    if let Some(parent) = std::path::Path::new(&o.out).parent() {
        std::fs::create_dir_all(parent).expect("bench output directory");
    }
    std::fs::write(&o.out, serde_json::to_string_pretty(&report).unwrap()).expect("write the report");
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}
