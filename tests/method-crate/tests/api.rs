//! `HalfMask` through the library's run function, in one run with TauGate: the penalty, the
//! observer after the gates, the mask with the optimizer's state zeroed at exactly the masked
//! elements, the task-end callback and the artifact.

use burn::tensor::{Device, Tensor, activation};
use plasticity_core::{Forward, Hooks, Mode, PlasticModel};
use plasticity_example_method::{HalfMask, NAME};
use plasticity_models::{Mlp, MlpConfig};
use plasticity_train::commands::load_run_model;
use plasticity_train::{Extensions, RunOptions, parse_config, train_with};

/// A fresh MLP trained with TauGate on its hidden layers, `hidden.0` also trained in full
/// (peft's `modules_to_save`), and `HalfMask` on `hidden.0.weight`.
const CONFIG: &str = r#"
seed = 4
[data]
valid_size = 500
train_subset = 1200
[model]
kind = "mlp"
hidden = [32, 32]
[train]
epochs = 2
batch_size = 50
[peft]
method = "taugate"
modules_to_save = ["hidden.0"]
"#;

fn mlp(device: &Device) -> Mlp {
    MlpConfig {
        hidden: vec![32, 32],
        ..Default::default()
    }
    .init(device)
}

#[test]
fn an_out_of_tree_method_gets_every_hook_point() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("half-mask-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = parse_config(CONFIG, "test", &[format!("output_dir=\"{}\"", dir.display())]).unwrap();
    let method = HalfMask::new("hidden.0.weight", 1e-3);
    let record = method.record.clone();
    let quiet = RunOptions {
        quiet: true,
        ..Default::default()
    };
    let summary = train_with(&config, &quiet, mlp, Extensions::methods(vec![Box::new(method)])).unwrap();
    let record = record.lock().unwrap().clone();
    let steps = 2 * 1200 / 50;

    // The penalty ran at every training step; the observer saw every training forward.
    assert_eq!(record.penalty_calls, steps);
    assert_eq!(record.observations, steps);

    // After 10 steps: the masked elements have zero moments and zero per-element steps; the
    // others took 10 steps.
    let state = record.state_after_10.expect("state read after step 10");
    for (name, values) in &state {
        for (i, (&v, &masked)) in values.iter().zip(&record.mask).enumerate() {
            if masked {
                assert_eq!(v, 0.0, "{name}[{i}] of a masked element");
            }
        }
    }
    let steps_kept: Vec<f32> = state["step"].iter().zip(&record.mask).filter(|(_, m)| !**m).map(|(s, _)| *s).collect();
    assert!(steps_kept.iter().all(|&s| s == 10.0), "{steps_kept:?}");
    let moments_kept = state["moment_2"].iter().zip(&record.mask).filter(|(v, m)| !**m && **v > 0.0).count();
    assert_eq!(moments_kept, record.mask.iter().filter(|m| !**m).count());

    // The task-end callback read the task's data.
    assert_eq!(record.task_examples, Some(1200));
    assert_eq!(record.class_counts.iter().sum::<usize>(), 1200);
    assert_eq!(record.class_counts.len(), 10);

    // The artifact and the results.json section.
    let artifact: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("half-mask.json")).unwrap()).unwrap();
    assert_eq!(artifact["steps"], steps);
    assert_eq!(summary.results.methods[NAME]["steps"], steps);
    assert_eq!(artifact["running"].as_array().unwrap().len(), 32);

    // The trained weight is zero on the mask; TauGate's gates trained beside it.
    let device = Device::flex();
    let (trainee, methods) = load_run_model(mlp(&device), &config, &dir, &device).unwrap();
    let w = trainee.model.hidden[0].weight.val().into_data().try_to_vec::<f32>().unwrap();
    for (i, (&v, &masked)) in w.iter().zip(&record.mask).enumerate() {
        assert_eq!(v == 0.0, masked, "hidden.0.weight[{i}] = {v}");
    }

    // Composition: with TauGate's hooks first, the observer sees the gated activation
    // γ·σ(s(z − τ))·relu(z), not relu(z).
    let x = Tensor::<2>::random([16, 784], burn::tensor::Distribution::Normal(0.0, 1.0), &device);
    let observer = HalfMask::new("hidden.0.weight", 0.0);
    let mut hooks: Hooks = methods.hooks(&trainee, Forward { mode: Mode::Eval, step: 0 });
    hooks.push(Box::new(observer.observer()));
    let _ = trainee.model.forward_hooked(x.clone(), &hooks);
    let observed = observer.last_observation().expect("observed point 0");
    let gates = trainee.modules.get_as::<plasticity_peft::GateSet>("taugate").unwrap();
    let z = trainee.model.hidden[0].forward(x);
    let gate = &gates.gates[0];
    let tau = gate.threshold.val().reshape([1, 32]);
    let gain = gate.gain.val().reshape([1, 32]);
    let gated = gain * activation::sigmoid((z.clone() - tau).mul_scalar(gates.sharpness)) * activation::relu(z.clone());
    let expected = gated.mean_dim(0).into_data().try_to_vec::<f32>().unwrap();
    let plain = activation::relu(z).mean_dim(0).into_data().try_to_vec::<f32>().unwrap();
    let diff = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
    assert!(diff(&observed, &expected) < 1e-5, "observer sees the gated activation");
    assert!(diff(&observed, &plain) > 1e-3, "the gates changed the activation");
}
