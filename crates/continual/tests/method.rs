//! EWC as a method: no penalty before the first task; after `task_end` a penalty that is zero
//! at the anchor and `λ/2 Σ F δ²` away from it (with `F` the estimator's importance); its state
//! survives a save and restore; online EWC keeps one consolidation, `γ·F̃ + F`.

mod common;

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use common::{Four, OneLayer, model};
use plasticity_continual::ewc::{EwcConfig, EwcMethod, EwcMode, FisherEstimator, fisher};
use plasticity_core::{Method, MethodModules, TaskContext, TaskData};
use std::sync::Arc;

fn config(mode: EwcMode) -> EwcConfig {
    serde_json::from_value(serde_json::json!({"lambda": 100.0, "mode": mode, "gamma": 0.5, "fisher": "empirical"})).unwrap()
}

fn end_task(method: &mut EwcMethod, m: &OneLayer, device: &Device) {
    let data = TaskData {
        train: Arc::new(Four),
        valid: Arc::new(Four),
        test: Arc::new(Four),
    };
    let cx = TaskContext {
        index: 0,
        data: &data,
        device,
        batch_size: 2,
    };
    Method::<OneLayer>::task_end(method, m, &MethodModules::default(), &cx).unwrap();
}

fn penalty(method: &EwcMethod, m: &OneLayer) -> Option<f32> {
    Method::<OneLayer>::penalty(method, m, &MethodModules::default()).map(|p| p.into_scalar::<f32>())
}

/// The model with every parameter moved by `delta`, as new leaves (as after an optimizer step).
fn shifted(m: &OneLayer, delta: f32) -> OneLayer {
    let mut moved = m.clone();
    moved.layer.weight = moved.layer.weight.map(|w| w.add_scalar(delta).detach().require_grad());
    moved.layer.bias = moved.layer.bias.map(|b| b.map(|b| b.add_scalar(delta).detach().require_grad()));
    moved
}

fn sum(t: Tensor<1>) -> f32 {
    t.sum().into_scalar::<f32>()
}

#[test]
fn separate_ewc_penalty_state_and_restore() {
    let device = Device::flex().autodiff();
    let m = model(&device);
    let mut ewc = EwcMethod::new(config(EwcMode::Separate));
    assert_eq!(penalty(&ewc, &m), None);
    end_task(&mut ewc, &m, &device);
    assert_eq!(ewc.consolidations(), 1);
    assert!(penalty(&ewc, &m).unwrap().abs() < 1e-9, "zero at the anchor");
    let f = fisher(&m, &Four, FisherEstimator::Empirical, Some(500), 2, &device);
    let total_f: f32 = f.values().map(|t| sum(t.clone())).sum();
    let moved = shifted(&m, 0.1);
    let want = 50.0 * total_f * 0.01;
    let got = penalty(&ewc, &moved).unwrap();
    assert!((got - want).abs() <= 1e-5 * want, "{got} vs λ/2·ΣF·δ² = {want}");

    let mut restored = EwcMethod::new(config(EwcMode::Separate));
    Method::<OneLayer>::restore(&mut restored, Method::<OneLayer>::state(&ewc)).unwrap();
    assert_eq!(penalty(&restored, &moved), Some(got));

    // A second task adds a second consolidation (anchored at the moved model).
    end_task(&mut ewc, &moved, &device);
    assert_eq!(ewc.consolidations(), 2);
    assert!(penalty(&ewc, &moved).unwrap() > got * 0.99);
    assert_eq!(moved.num_params(), m.num_params());
}

#[test]
fn online_ewc_keeps_one_decayed_consolidation() {
    let device = Device::flex().autodiff();
    let m = model(&device);
    let mut ewc = EwcMethod::new(config(EwcMode::Online));
    end_task(&mut ewc, &m, &device);
    let once = penalty(&ewc, &shifted(&m, 0.1)).unwrap();
    end_task(&mut ewc, &m, &device);
    assert_eq!(ewc.consolidations(), 1);
    // Same data and anchor twice: F̃ = γ·F + F = 1.5·F.
    let twice = penalty(&ewc, &shifted(&m, 0.1)).unwrap();
    assert!((twice / once - 1.5).abs() < 1e-5, "{twice} / {once}");
}

#[test]
fn bad_settings_are_named() {
    let bad = |json: serde_json::Value| serde_json::from_value::<EwcConfig>(json).unwrap().validate().unwrap_err().0;
    assert_eq!(bad(serde_json::json!({"lambda": -1.0})), "ewc.lambda");
    assert_eq!(bad(serde_json::json!({"lambda": 1.0, "gamma": 1.5})), "ewc.gamma");
    assert_eq!(bad(serde_json::json!({"lambda": 1.0, "samples": 0})), "ewc.samples");
    let unknown = serde_json::from_value::<EwcConfig>(serde_json::json!({"lambda": 1.0, "lamda": 2.0})).unwrap_err();
    assert!(unknown.to_string().contains("lamda"));
}
