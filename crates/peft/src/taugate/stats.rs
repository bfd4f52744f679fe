//! Hard-gate statistics (peft.md §1.3 item 4): sparsity per layer and per-class unit activity.

use super::GateSet;
use crate::PeftError;
use burn::tensor::Tensor;
use plasticity_core::{Hook, Hooks, Input, PlasticModel, Units};
use std::sync::Mutex;

/// Statistics of the hardened gates over one batch. A unit is *active* on an input when
/// `1[z > τ] · φ(z) > 0`.
#[derive(Clone, Debug, PartialEq)]
pub struct GateStatistics {
    /// Per gated layer: the fraction of (input, unit) pairs that are active.
    pub active_fraction: Vec<f64>,
    /// `[layer][class][unit]`: the fraction of the class's inputs on which the unit is active
    /// (0 for a class absent from the batch).
    pub class_activity: Vec<Vec<Vec<f64>>>,
}

/// Runs the hard gates and records, per gated layer, each example's active fraction per unit.
struct Recorder {
    gates: GateSet,
    batch: usize,
    /// Per gated layer: `[batch, units]` activity (the mean of the active mask over the
    /// example's positions, and over its real tokens for sequences).
    activity: Mutex<Vec<Tensor<2>>>,
}

impl Hook for Recorder {
    fn activate(&self, point: usize, z: &Units, h: Tensor<3>) -> Tensor<3> {
        let Some(gate) = self.gates.gates.get(point) else {
            return h;
        };
        let gated = gate.hard_gate(z.values.clone()) * h.clone();
        let [n, units, positions] = gated.dims();
        let rows = (n / self.batch.max(1)).max(1);
        let active = gated.greater_elem(0.0).float().mean_dim(2).reshape([n, units]);
        let per_example = match &z.mask {
            // Only real tokens count: weight each row by its mask, then divide by the count.
            Some(mask) => {
                let mask: Tensor<2> = mask.clone().reshape([n, 1]);
                let counts = mask.clone().reshape([self.batch, rows]).sum_dim(1).clamp_min(1.0);
                (active * mask).reshape([self.batch, rows, units]).sum_dim(1).reshape([self.batch, units])
                    / counts
            }
            None => active.reshape([self.batch, rows, units]).mean_dim(1).reshape([self.batch, units]),
        };
        let _ = positions;
        if let Ok(mut activity) = self.activity.lock() {
            activity.push(per_example);
        }
        gate.forward_hard(z.values.clone(), h)
    }
}

/// Hard-gate statistics of `model` with `gates` on one batch `input`, whose labels are
/// `labels` (one per example, each `< classes`).
pub fn gate_statistics<M: PlasticModel>(
    model: &M,
    gates: &GateSet,
    input: M::Input,
    labels: &[usize],
    classes: usize,
) -> Result<GateStatistics, PeftError> {
    let batch = input.batch_size();
    if labels.len() != batch {
        let value = labels.len().to_string();
        return Err(PeftError::Config {
            method: "TauGate",
            key: "labels",
            value,
            reason: format!("need one label per input ({batch})"),
        });
    }
    if let Some(&bad) = labels.iter().find(|&&l| l >= classes) {
        let value = bad.to_string();
        return Err(PeftError::Config {
            method: "TauGate",
            key: "labels",
            value,
            reason: format!("must be below classes = {classes}"),
        });
    }
    let recorder = Recorder {
        gates: gates.clone(),
        batch,
        activity: Mutex::new(Vec::new()),
    };
    let activity = std::sync::Arc::new(recorder);
    let hooks = Hooks::new(vec![Box::new(Shared(activity.clone()))]);
    let _ = model.forward_hooked(input, &hooks);
    drop(hooks);
    let layers = std::mem::take(&mut *activity.activity.lock().map_err(|e| PeftError::Data(e.to_string()))?);
    let mut stats = GateStatistics {
        active_fraction: Vec::new(),
        class_activity: Vec::new(),
    };
    for mask in layers {
        let units = mask.dims()[1];
        let values: Vec<f32> = mask
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .map_err(|e| PeftError::Data(format!("{e:?}")))?;
        let active: f64 = values.iter().map(|&v| f64::from(v)).sum();
        stats.active_fraction.push(active / (batch * units).max(1) as f64);
        let mut per_class = vec![vec![0.0; units]; classes];
        let mut counts = vec![0usize; classes];
        for (row, &label) in values.chunks(units).zip(labels) {
            counts[label] += 1;
            for (sum, &v) in per_class[label].iter_mut().zip(row) {
                *sum += f64::from(v);
            }
        }
        for (class_row, &count) in per_class.iter_mut().zip(&counts) {
            class_row.iter_mut().for_each(|v| *v /= count.max(1) as f64);
        }
        stats.class_activity.push(per_class);
    }
    Ok(stats)
}

/// A hook shared with its caller, who reads what it recorded after the forward pass.
struct Shared<H>(std::sync::Arc<H>);

impl<H: Hook> Hook for Shared<H> {
    fn activate(&self, point: usize, z: &Units, h: Tensor<3>) -> Tensor<3> {
        self.0.activate(point, z, h)
    }
}
