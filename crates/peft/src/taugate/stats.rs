//! Hard-gate statistics (peft.md §1.3 item 4): sparsity per layer and per-class unit activity.

use super::GateSet;
use crate::PeftError;
use burn::tensor::{Device, Tensor};
use plasticity_core::{ExampleSet, Hook, Hooks, Input, PlasticModel, Units, batches_in_order};
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
    let mut sums = Sums::new(classes);
    sums.add(model, gates, input, labels)?;
    Ok(sums.finish())
}

/// [`gate_statistics`] over a whole example set, in batches of `batch` (the statistics of one
/// batch holding every example, without its memory).
pub fn gate_statistics_of<M: PlasticModel>(
    model: &M,
    gates: &GateSet,
    set: &dyn ExampleSet<M::Input>,
    batch: usize,
    device: &Device,
) -> Result<GateStatistics, PeftError> {
    let mut sums = Sums::new(set.num_classes());
    for indices in batches_in_order(set.len(), batch) {
        let labels: Vec<usize> = indices.iter().map(|&i| set.label(i)).collect();
        sums.add(model, gates, set.batch(&indices, device).input, &labels)?;
    }
    Ok(sums.finish())
}

/// Running sums of the per-example activity, per gated layer.
struct Sums {
    classes: usize,
    examples: usize,
    counts: Vec<usize>,
    /// Per layer: the sum over examples of each unit's activity, per class: `[class][unit]`.
    per_class: Vec<Vec<Vec<f64>>>,
}

impl Sums {
    fn new(classes: usize) -> Self {
        Self {
            classes,
            examples: 0,
            counts: vec![0; classes],
            per_class: Vec::new(),
        }
    }

    fn add<M: PlasticModel>(&mut self, model: &M, gates: &GateSet, input: M::Input, labels: &[usize]) -> Result<(), PeftError> {
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
        if let Some(&bad) = labels.iter().find(|&&l| l >= self.classes) {
            let value = bad.to_string();
            return Err(PeftError::Config {
                method: "TauGate",
                key: "labels",
                value,
                reason: format!("must be below classes = {}", self.classes),
            });
        }
        let recorder = std::sync::Arc::new(Recorder {
            gates: gates.clone(),
            batch,
            activity: Mutex::new(Vec::new()),
        });
        let hooks = Hooks::new(vec![Box::new(Shared(recorder.clone()))]);
        let _ = model.forward_hooked(input, &hooks);
        drop(hooks);
        let layers = std::mem::take(&mut *recorder.activity.lock().map_err(|e| PeftError::Data(e.to_string()))?);
        for (layer, mask) in layers.into_iter().enumerate() {
            let units = mask.dims()[1];
            let values: Vec<f32> = mask
                .into_data()
                .convert::<f32>()
                .try_to_vec::<f32>()
                .map_err(|e| PeftError::Data(format!("{e:?}")))?;
            if self.per_class.len() <= layer {
                self.per_class.push(vec![vec![0.0; units]; self.classes]);
            }
            for (row, &label) in values.chunks(units).zip(labels) {
                for (sum, &v) in self.per_class[layer][label].iter_mut().zip(row) {
                    *sum += f64::from(v);
                }
            }
        }
        for &label in labels {
            self.counts[label] += 1;
        }
        self.examples += batch;
        Ok(())
    }

    fn finish(self) -> GateStatistics {
        let mut stats = GateStatistics {
            active_fraction: Vec::new(),
            class_activity: Vec::new(),
        };
        for per_class in self.per_class {
            let units = per_class.first().map_or(0, Vec::len);
            let active: f64 = per_class.iter().flatten().sum();
            stats.active_fraction.push(active / (self.examples * units).max(1) as f64);
            let rows = per_class
                .into_iter()
                .zip(&self.counts)
                .map(|(row, &count)| row.into_iter().map(|v| v / count.max(1) as f64).collect())
                .collect();
            stats.class_activity.push(rows);
        }
        stats
    }
}

/// A hook shared with its caller, who reads what it recorded after the forward pass.
struct Shared<H>(std::sync::Arc<H>);

impl<H: Hook> Hook for Shared<H> {
    fn activate(&self, point: usize, z: &Units, h: Tensor<3>) -> Tensor<3> {
        self.0.activate(point, z, h)
    }
}
