//! What both benchmarks share: the model and batch size they time (MLP 784-256-256-10, batch
//! 128, Adam lr 1e-3), fixed pseudo-random batches, and the median of repeated timings.
#![allow(dead_code)]

use plasticity::burn::tensor::{Device, Int, Tensor, TensorData};
use plasticity::data::{ClassBatch, SplitMix64};
use plasticity::models::{Mlp, MlpConfig};

pub const BATCH: usize = 128;
pub const INPUT: usize = 784;
pub const CLASSES: usize = 10;
pub const LR: f64 = 1e-3;
/// Distinct pre-generated batches, used in turn.
pub const BATCHES: usize = 4;

/// MLP 784-256-256-10, ReLU (the bundled model's defaults).
pub fn model(device: &Device) -> Mlp {
    MlpConfig::default().init(device)
}

/// Fixed pseudo-random batches (inputs uniform in [−1, 1), uniform labels; the same on every
/// backend and run), on `device`.
pub fn batches(device: &Device) -> Vec<ClassBatch> {
    let mut rng = SplitMix64::new(0x2545_f491_4f6c_dd1d);
    (0..BATCHES)
        .map(|_| {
            let x: Vec<f32> = (0..BATCH * INPUT).map(|_| rng.next_f64() as f32 * 2.0 - 1.0).collect();
            let y: Vec<i64> = (0..BATCH).map(|_| rng.below(CLASSES as u64) as i64).collect();
            ClassBatch {
                input: Tensor::<2>::from_data(TensorData::new(x, [BATCH, INPUT]), device),
                targets: Tensor::<1, Int>::from_data(TensorData::new(y, [BATCH]), device),
            }
        })
        .collect()
}

pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}
