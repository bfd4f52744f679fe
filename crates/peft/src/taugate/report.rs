//! TauGate's report: soft- and hard-gate test accuracy, the fraction of active units per layer
//! (a unit is active when `1[z > τ]·φ(z) > 0`), and neuron attributions (how often each unit is
//! active on each class), as `taugate.json` and one heatmap PNG per gated layer.

use super::{GateSet, gate_statistics_of};
use crate::method::peft_error;
use burn::tensor::Device;
use plasticity_core::files::write_atomic;
use plasticity_core::{ExampleSet, MethodResult, PlasticModel, evaluate};
use plasticity_plot::heatmap;
use serde::Serialize;
use std::path::Path;

const NAME: &str = "taugate";

#[derive(Clone, Debug, Serialize)]
pub struct TauGateReport {
    /// Test accuracy with the soft gate used in training (σ with the final sharpness).
    pub soft_test_accuracy: f64,
    /// Test accuracy with the gate hardened to `1[z > τ]`.
    pub hard_test_accuracy: f64,
    /// Per gated layer: fraction of (test image, unit) pairs active with the hard gate.
    pub active_fraction: Vec<f64>,
    /// Per gated layer: the layer's insertion point name.
    pub layers: Vec<String>,
    /// `[layer][class][unit]`: fraction of the class's test images on which the unit is active.
    pub class_activity: Vec<Vec<Vec<f64>>>,
}

/// Evaluates the gates, soft and hardened, on `test` and writes `taugate.json` and
/// `taugate-<layer>.png` into `dir`.
pub fn report<M: PlasticModel>(
    dir: &Path,
    model: &M,
    gates: &GateSet,
    test: &dyn ExampleSet<M::Input>,
    device: &Device,
    batch: usize,
) -> MethodResult<TauGateReport> {
    let soft = evaluate(|x| model.forward_hooked(x, &gates.hooks()), test, batch, device);
    let hard_gates = gates.clone().hardened(true);
    let hard = evaluate(|x| model.forward_hooked(x, &hard_gates.hooks()), test, batch, device);
    let stats = gate_statistics_of(model, gates, test, batch, device).map_err(|e| peft_error(NAME, e))?;
    let layers: Vec<String> = model
        .insertion_points()
        .into_iter()
        .map(|p| p.name)
        .take(stats.active_fraction.len())
        .collect();
    for (layer, activity) in layers.iter().zip(&stats.class_activity) {
        let path = dir.join(format!("taugate-{layer}.png"));
        let classes: Vec<String> = (0..activity.len()).map(|c| format!("class {c}")).collect();
        let title = format!("TauGate {layer}: fraction of test images on which each unit is active (hard gate)");
        heatmap(&path, &title, &classes, &[], activity, "active fraction")
            .map_err(|e| peft_error(NAME, format!("{}: {e}", path.display())))?;
    }
    let report = TauGateReport {
        soft_test_accuracy: soft.accuracy,
        hard_test_accuracy: hard.accuracy,
        active_fraction: stats.active_fraction,
        layers,
        class_activity: stats.class_activity,
    };
    let path = dir.join("taugate.json");
    let json = serde_json::to_vec_pretty(&report).map_err(|e| peft_error(NAME, e))?;
    write_atomic(&path, &json).map_err(|e| peft_error(NAME, e))?;
    Ok(report)
}
