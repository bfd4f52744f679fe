//! Cost of sparse training against dense training on the flex CPU backend: LeNet-300-100
//! (784-300-100-10), batch 128, SGD with momentum 0.9 (plasticity's optimizer with per-element
//! state, as `[prune]` requires). Measured: the median train step dense, with `[prune]`'s masks
//! applied after every step (a step between events), and one GraNet event step (GMP to 90 %, then
//! regeneration: weights and gradients to the host, sorts, new masks).
//!
//! `cargo bench --bench prune [-- --repeats N --steps N]` writes the medians to
//! `target/bench/prune.json` (docs/pruning.md, "Cost").

mod common;

use common::{batches, median};
use plasticity::burn::nn::loss::CrossEntropyLossConfig;
use plasticity::burn::optim::GradientsParams;
use plasticity::burn::tensor::Device;
use plasticity::core::optim::{OptimizerConfig, PlasticOptimizer, SgdConfig};
use plasticity::core::{AttachContext, Method, MethodModules, PlasticModel, StepContext};
use plasticity::models::MlpConfig;
use plasticity::prune::{PruneConfig, PruneMethod};
use std::time::Instant;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map_or(default, |v| v.parse().expect(name))
}

fn main() {
    let (steps, repeats) = (arg("--steps", 30), arg("--repeats", 7));
    let device = Device::flex().autodiff();
    let model = MlpConfig {
        hidden: vec![300, 100],
        ..MlpConfig::default()
    }
    .init(&device);
    let _ = plasticity::core::param_infos(&model);
    let data = batches(&device);
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let sgd = OptimizerConfig::Sgd(SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        ..SgdConfig::default()
    });
    // ΔT far beyond the timed steps: masks applied every step, no event.
    let config = |frequency: u64| -> PruneConfig {
        serde_json::from_value(serde_json::json!({ "method": "granet", "final_sparsity": 0.9, "frequency": frequency, "end": 4 * frequency }))
            .expect("prune config")
    };
    let cx = AttachContext {
        device: &device,
        total_steps: 100_000,
        run_dir: None,
    };
    let mut times: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for repeat in 0..=repeats {
        for (k, pruned) in [false, true].into_iter().enumerate() {
            let mut method = PruneMethod::new(config(1_000_000), 1);
            let mut m = model.clone();
            if pruned {
                m = Method::attach(&mut method, m, &cx).expect("attach");
            }
            let mut optim = PlasticOptimizer::new(sgd.clone(), None).with_per_element_steps(true);
            let mut modules = MethodModules::new();
            let start = Instant::now();
            for s in 0..steps {
                let b = &data[s % data.len()];
                let loss = loss_fn.forward(m.forward(b.input.clone()), b.targets.clone());
                let mut grads = GradientsParams::from_grads(loss.backward(), &m);
                if pruned {
                    let mut step = StepContext { step: s as u64, lr: 0.1, epoch: 1, optimizer: Some(optim.state_mut()) };
                    Method::before_step(&mut method, &m, &mut grads, &mut step).expect("before_step");
                }
                m = optim.step(0.1, m, grads);
                if pruned {
                    let mut step = StepContext { step: s as u64, lr: 0.1, epoch: 1, optimizer: Some(optim.state_mut()) };
                    m = Method::after_step(&mut method, m, &mut modules, &mut step).expect("after_step");
                }
            }
            device.sync().expect("sync");
            if repeat > 0 {
                times[k].push(start.elapsed().as_secs_f64() * 1e3 / steps as f64);
            }
        }
    }
    // One event step (step 1000 of ΔT = 1000: GMP to its first level, then regeneration).
    let mut events = Vec::new();
    for _ in 0..repeats {
        let mut method = PruneMethod::new(config(1000), 1);
        let m = Method::attach(&mut method, model.clone(), &cx).expect("attach");
        let mut optim = PlasticOptimizer::new(sgd.clone(), None).with_per_element_steps(true);
        let mut modules = MethodModules::new();
        let b = &data[0];
        let loss = loss_fn.forward(m.forward(b.input.clone()), b.targets.clone());
        let mut grads = GradientsParams::from_grads(loss.backward(), &m);
        let start = Instant::now();
        let mut step = StepContext { step: 999, lr: 0.1, epoch: 1, optimizer: Some(optim.state_mut()) };
        Method::before_step(&mut method, &m, &mut grads, &mut step).expect("before_step");
        let m = optim.step(0.1, m, grads);
        let mut step = StepContext { step: 999, lr: 0.1, epoch: 1, optimizer: Some(optim.state_mut()) };
        let _ = Method::after_step(&mut method, m, &mut modules, &mut step).expect("after_step");
        device.sync().expect("sync");
        events.push(start.elapsed().as_secs_f64() * 1e3);
        assert_eq!(method.events().len(), 1, "the timed step is an event");
    }
    let (dense, masked, event) = (median(&times[0]), median(&times[1]), median(&events));
    let out = serde_json::json!({
        "model": "LeNet-300-100, batch 128, SGD momentum 0.9",
        "dense_step_ms": dense,
        "masked_step_ms": masked,
        "masked_over_dense": masked / dense,
        "granet_event_step_ms": event,
    });
    println!("{}", serde_json::to_string_pretty(&out).expect("json"));
    std::fs::create_dir_all("target/bench").expect("target/bench");
    std::fs::write("target/bench/prune.json", serde_json::to_string_pretty(&out).expect("json")).expect("write");
}
