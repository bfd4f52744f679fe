//! Plasticity diagnostics (Dohare et al., "Loss of plasticity in deep continual learning",
//! Nature 2024; spec continual.md §3): for every hidden layer a model lists as an insertion
//! point, on a fixed probe batch,
//!
//! - the dead-unit fraction: units whose activation is zero on every example of the batch (and,
//!   for a feature map, at every position);
//! - the effective rank of the representation `H: [n, units]` (Roy and Vetterli: the exponential
//!   of the entropy of the normalised singular values; [`spectrum::effective_rank`]); a feature
//!   map is averaged over its positions first, one row per example;
//! - the average weight magnitude: mean `|w|` of the layer's incoming weight (`<layer>.weight`),
//!   and over every weight of the model ([`Diagnostics::weight_magnitude`]).
//!
//! The activations are those the trained model computes, every method's hooks included: the
//! caller passes those hooks and [`diagnose`] adds an observer.

pub mod spectrum;

use burn::tensor::Tensor;
use plasticity_core::{Hook, Hooks, PlasticModel, Units, host_values, walk_params};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// One hidden layer's diagnostics.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerDiagnostics {
    /// The insertion point's module path (`hidden.0`).
    pub layer: String,
    pub units: usize,
    pub dead_fraction: f64,
    pub effective_rank: f64,
    /// Mean `|w|` of `<layer>.weight`.
    pub weight_magnitude: f64,
}

/// A model's diagnostics on one probe batch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Diagnostics {
    pub probe_examples: usize,
    pub layers: Vec<LayerDiagnostics>,
    /// Mean `|w|` over every `*.weight` parameter of the model (the output layer included).
    pub weight_magnitude: f64,
}

/// Records the final activation at every insertion point.
#[derive(Clone, Default)]
struct Recorder {
    seen: Arc<Mutex<BTreeMap<usize, Tensor<3>>>>,
}

impl Hook for Recorder {
    fn observe(&self, point: usize, h: &Units) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.insert(point, h.values.clone());
        }
    }
}

/// Dead-unit fraction and effective rank of activations `h: [n, units, positions]`.
pub fn representation(h: Tensor<3>) -> (f64, f64) {
    let [n, units, _] = h.dims();
    let alive = h.clone().abs().sum_dim(2).sum_dim(0).reshape([units]).greater_elem(0.0);
    let alive = alive.int().sum().into_scalar::<i64>() as usize;
    let rows: Vec<f32> = host_values(h.mean_dim(2).reshape([n, units]));
    let rank = spectrum::effective_rank(&spectrum::singular_values(&rows, n, units));
    ((units - alive) as f64 / units.max(1) as f64, rank)
}

/// The diagnostics of `model` on `probe` (`n` examples), its forward run with `hooks` (the
/// methods' hooks; pass [`Hooks::none`] for the plain model).
pub fn diagnose<M: PlasticModel>(model: &M, mut hooks: Hooks, probe: M::Input, n: usize) -> Diagnostics {
    let recorder = Recorder::default();
    hooks.push(Box::new(recorder.clone()));
    let _ = model.forward_hooked(probe, &hooks);
    let seen = std::mem::take(&mut *recorder.seen.lock().expect("the recorder's lock"));
    let mut magnitudes = BTreeMap::new();
    let (mut total, mut count) = (0.0f64, 0usize);
    walk_params(model, true, |info, value| {
        if !info.path.ends_with(".weight") || info.adapter.is_some() || info.method.is_some() {
            return;
        }
        let Some(w) = value.and_then(|v| v.flatten()) else { return };
        let sum = w.abs().sum().into_scalar::<f64>();
        magnitudes.insert(info.module().to_string(), sum / info.count().max(1) as f64);
        total += sum;
        count += info.count();
    });
    let layers = model
        .insertion_points()
        .into_iter()
        .enumerate()
        .filter_map(|(i, point)| {
            let h = seen.get(&i)?.clone();
            let (dead_fraction, effective_rank) = representation(h);
            Some(LayerDiagnostics {
                weight_magnitude: magnitudes.get(&point.name).copied().unwrap_or(f64::NAN),
                layer: point.name,
                units: point.width,
                dead_fraction,
                effective_rank,
            })
        })
        .collect();
    Diagnostics {
        probe_examples: n,
        layers,
        weight_magnitude: if count == 0 { f64::NAN } else { total / count as f64 },
    }
}
