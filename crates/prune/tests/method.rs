//! The Method on a small net: the gradient GraNet's regrowth scores is the dense gradient of the
//! zero-filled weights on the step's batch (the same as a plain model with those weights, no
//! method, no mask, computes), and a RigL mask step makes no weight update.

use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData, loss::cross_entropy_with_logits};
use plasticity_core::optim::{OptimizerConfig, PlasticOptimizer, SgdConfig};
use plasticity_core::{AttachContext, Method, MethodModules, PlasticModel, StepContext, walk_params};
use plasticity_prune::{PruneConfig, PruneMethod};

mod common;

use common::Net;

fn net(hidden: Vec<f32>, output: Vec<f32>, device: &Device) -> Net {
    common::net(&hidden, [4, 6], &output, [6, 3], device)
}

fn values(model: &Net) -> Vec<Vec<f32>> {
    let mut out = Vec::new();
    walk_params(model, true, |_, v| out.push(v.unwrap().into_data().convert::<f32>().try_to_vec::<f32>().unwrap()));
    out
}

fn grads_of(model: &Net, device: &Device) -> (GradientsParams, Vec<Vec<f32>>) {
    let x = Tensor::<2>::from_data(TensorData::new((0..8).map(|i| (i as f32 - 3.5) / 4.0).collect::<Vec<_>>(), [2, 4]), device);
    let y = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 2], [2]), device).one_hot(3).float();
    let grads = GradientsParams::from_grads(cross_entropy_with_logits(model.forward(x), y).backward(), model);
    let mut dense = Vec::new();
    walk_params(model, false, |info, _| {
        let g = grads.get::<2>(info.id).unwrap();
        dense.push(g.into_data().convert::<f32>().try_to_vec::<f32>().unwrap());
    });
    (grads, dense)
}

#[test]
fn regrowth_scores_the_dense_gradient_of_the_zero_filled_weights() {
    let device = Device::flex().autodiff();
    let hidden: Vec<f32> = (0..24).map(|i| ((i * 7 % 11) as f32 - 5.0) / 10.0).collect();
    let output: Vec<f32> = (0..18).map(|i| ((i * 5 % 13) as f32 - 6.0) / 10.0).collect();
    // A sparse start (ERK at 50 %), so the weights the method trains are zero-filled.
    let config: PruneConfig = serde_json::from_value(serde_json::json!({
        "method": "granet", "init_sparsity": 0.5, "final_sparsity": 0.8, "frequency": 10, "end": 100
    }))
    .unwrap();
    let mut method = PruneMethod::new(config, 3);
    let cx = AttachContext {
        device: &device,
        total_steps: 200,
        run_dir: None,
    };
    let masked = Method::attach(&mut method, net(hidden, output, &device), &cx).unwrap();
    let zero_filled = values(&masked);
    assert!(zero_filled.iter().flatten().filter(|&&w| w == 0.0).count() > 10, "the start is sparse");
    let (mut grads, _) = grads_of(&masked, &device);
    let mut step = StepContext {
        step: 9,
        lr: 0.1,
        epoch: 1,
        optimizer: None,
    };
    Method::before_step(&mut method, &masked, &mut grads, &mut step).unwrap();
    let stashed = method.stashed_gradients().expect("step 10 is a regrowth step").to_vec();
    // Separately: a plain model holding the same zero-filled weights, no method, no mask.
    let plain = net(zero_filled[0].clone(), zero_filled[1].clone(), &device);
    let (_, dense) = grads_of(&plain, &device);
    assert_eq!(stashed, dense);
    assert!(stashed[0].iter().zip(&zero_filled[0]).any(|(g, &w)| w == 0.0 && *g != 0.0), "pruned positions have gradients");
}

/// RigL at step 10 of ΔT = 10 (a mask step): the SGD-with-momentum update of that step is undone,
/// so every weight active before and after keeps its value from before the step, and the
/// optimizer state is the one before the step (masked to the new mask).
#[test]
fn a_rigl_mask_step_makes_no_weight_update() {
    let device = Device::flex().autodiff();
    let hidden: Vec<f32> = (0..24).map(|i| ((i * 7 % 11) as f32 - 5.0) / 10.0).collect();
    let output: Vec<f32> = (0..18).map(|i| ((i * 5 % 13) as f32 - 6.0) / 10.0).collect();
    let config: PruneConfig = serde_json::from_value(serde_json::json!({ "method": "rigl", "final_sparsity": 0.5, "frequency": 10 })).unwrap();
    let mut method = PruneMethod::new(config, 5);
    let cx = AttachContext {
        device: &device,
        total_steps: 100,
        run_dir: None,
    };
    let mut model = Method::attach(&mut method, net(hidden, output, &device), &cx).unwrap();
    let mut optim = PlasticOptimizer::new(OptimizerConfig::Sgd(SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() }), None)
        .with_per_element_steps(true);
    let mut modules = MethodModules::new();
    let mut before = Vec::new();
    let mut masks_before = Vec::new();
    for s in 0..10u64 {
        if s == 9 {
            before = values(&model);
            masks_before = method.masks().map(|(_, m)| m.to_vec()).collect();
        }
        let (mut grads, _) = grads_of(&model, &device);
        let mut step = StepContext { step: s, lr: 0.1, epoch: 1, optimizer: Some(optim.state_mut()) };
        Method::before_step(&mut method, &model, &mut grads, &mut step).unwrap();
        model = optim.step(0.1, model, grads);
        let mut step = StepContext { step: s, lr: 0.1, epoch: 1, optimizer: Some(optim.state_mut()) };
        model = Method::after_step(&mut method, model, &mut modules, &mut step).unwrap();
    }
    assert_eq!(method.events().len(), 1, "step 10 updated the masks");
    let after = values(&model);
    let masks_after: Vec<Vec<bool>> = method.masks().map(|(_, m)| m.to_vec()).collect();
    assert_ne!(masks_before, masks_after, "the mask changed");
    for l in 0..2 {
        for i in 0..after[l].len() {
            match (masks_before[l][i], masks_after[l][i]) {
                (true, true) => assert_eq!(after[l][i], before[l][i], "layer {l}[{i}]: no weight update on the mask step"),
                (_, false) => assert_eq!(after[l][i], 0.0),
                (false, true) => assert_eq!(after[l][i], 0.0, "a new connection starts at 0"),
            }
        }
    }
}
