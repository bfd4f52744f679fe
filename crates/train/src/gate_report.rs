//! TauGate's report: soft- and hard-gate test accuracy, the fraction of active units per layer
//! (a unit is active when `1[z > τ]·φ(z) > 0`), and neuron attributions (how often each unit is
//! active on each class), as `taugate.json` and one heatmap PNG per gated layer.

use crate::checkpoint::write_atomic;
use crate::config::RunConfig;
use crate::error::{Result, TrainError};
use crate::evaluate::evaluate;
use crate::plot::heatmap;
use burn::tensor::{Device, Tensor, TensorData};
use plasticity_data::ImageSet;
use plasticity_models::PlasticModel;
use plasticity_peft::GateSet;
use plasticity_peft::taugate::gate_statistics;
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;

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

/// Evaluates the hardened gates on `test` and writes `taugate.json` and `taugate-<layer>.png`.
pub fn report<M: PlasticModel>(
    dir: &Path,
    model: &M,
    gates: &GateSet,
    test: &Arc<ImageSet>,
    config: &RunConfig,
    device: &Device,
) -> Result<TauGateReport> {
    let batch = config.train.eval_batch_size;
    let soft = evaluate(|x| model.forward_hooked(x, gates), test.clone(), batch, device)?;
    let hard_gates = gates.clone().hardened(true);
    let hard = evaluate(|x| model.forward_hooked(x, &hard_gates), test.clone(), batch, device)?;
    let input = Tensor::<2>::from_data(TensorData::new(test.features.clone(), [test.len(), test.dim()]), device);
    let labels: Vec<usize> = test.labels.iter().map(|&l| l as usize).collect();
    let stats = gate_statistics(model, gates, input, &labels, test.num_classes)
        .map_err(|e| TrainError::Run(format!("TauGate statistics: {e}")))?;
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
        heatmap(&path, &title, &classes, &[], activity, "active fraction").map_err(|e| TrainError::io(&path, e))?;
    }
    let report = TauGateReport {
        soft_test_accuracy: soft.accuracy,
        hard_test_accuracy: hard.accuracy,
        active_fraction: stats.active_fraction,
        layers,
        class_activity: stats.class_activity,
    };
    let path = dir.join("taugate.json");
    let json = serde_json::to_vec_pretty(&report).map_err(|e| TrainError::io(&path, e))?;
    write_atomic(&path, &json).map_err(|e| TrainError::io(&path, e))?;
    Ok(report)
}
