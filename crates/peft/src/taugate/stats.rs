//! Hard-gate statistics (peft.md §1.3 item 4): sparsity per layer and per-class unit activity.

use super::GateSet;
use crate::PeftError;
use burn::tensor::Tensor;
use plasticity_models::{Activation, ActivationHook, PlasticModel};
use std::cell::RefCell;

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

/// Runs the hard gates and records the active mask of every gated layer.
struct Recorder<'a> {
    gates: &'a GateSet,
    masks: RefCell<Vec<Tensor<2>>>,
}

impl ActivationHook for Recorder<'_> {
    fn activate(&self, point: usize, z: Tensor<2>, activation: Activation) -> Tensor<2> {
        let Some(gate) = self.gates.gates.get(point) else {
            return activation.apply(z);
        };
        let gated = gate.hard_gate(z.clone()) * activation.apply(z.clone());
        self.masks.borrow_mut().push(gated.greater_elem(0.0).float());
        gate.forward_hard(z, activation)
    }
}

/// Hard-gate statistics of `model` with `gates` on `input: [batch, features]`, whose labels are
/// `labels` (length batch, each `< classes`).
pub fn gate_statistics<M: PlasticModel>(
    model: &M,
    gates: &GateSet,
    input: Tensor<2>,
    labels: &[usize],
    classes: usize,
) -> Result<GateStatistics, PeftError> {
    let batch = input.dims()[0];
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
        gates,
        masks: RefCell::new(Vec::new()),
    };
    let _ = model.forward_hooked(input, &recorder);
    let mut stats = GateStatistics {
        active_fraction: Vec::new(),
        class_activity: Vec::new(),
    };
    for mask in recorder.masks.into_inner() {
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
