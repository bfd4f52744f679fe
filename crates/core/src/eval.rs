//! Scoring: the cross-entropy loss and the correct count of a batch, and evaluation of a model
//! on an example set.

use crate::{ExampleSet, Input};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::{Device, Int, Tensor};
use serde::{Deserialize, Serialize};

/// Mean cross-entropy `[1]` of `logits: [batch, classes]` against `targets: [batch]`, with its
/// value and the correct count read back in one host transfer.
pub fn score(logits: Tensor<2>, targets: Tensor<1, Int>) -> (Tensor<1>, f64, u64) {
    let loss = CrossEntropyLossConfig::new()
        .init(&logits.device())
        .forward(logits.clone(), targets.clone());
    let correct = logits.argmax(1).squeeze_dim::<1>(1).equal(targets).int().sum().float();
    let both = Tensor::cat(vec![loss.clone().detach().reshape([1]), correct.reshape([1])], 0);
    let values = both
        .into_data()
        .convert::<f64>()
        .try_into_vec::<f64>()
        .unwrap_or_else(|_| vec![f64::NAN, 0.0]);
    (loss, values[0], values[1].max(0.0) as u64)
}

/// Loss and accuracy sums over batches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SplitSums {
    pub loss_sum: f64,
    pub correct: u64,
    pub examples: u64,
}

impl SplitSums {
    pub fn add(&mut self, batch_mean_loss: f64, correct: u64, examples: u64) {
        self.loss_sum += batch_mean_loss * examples as f64;
        self.correct += correct;
        self.examples += examples;
    }
    pub fn loss(&self) -> f64 {
        if self.examples == 0 {
            f64::NAN
        } else {
            self.loss_sum / self.examples as f64
        }
    }
    pub fn accuracy(&self) -> f64 {
        if self.examples == 0 {
            f64::NAN
        } else {
            self.correct as f64 / self.examples as f64
        }
    }
}

/// Test or validation figures.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct Evaluation {
    pub loss: f64,
    pub accuracy: f64,
    pub examples: u64,
}

/// Batches of `set` in order: `0..batch_size`, then the next, the last one partial.
pub fn batches_in_order(len: usize, batch_size: usize) -> impl Iterator<Item = Vec<usize>> {
    let batch_size = batch_size.max(1);
    (0..len.div_ceil(batch_size)).map(move |b| (b * batch_size..((b + 1) * batch_size).min(len)).collect())
}

/// Mean cross-entropy and accuracy of `forward` (`input -> logits`, a model in inference
/// mode) on `set`, in batches of `batch_size` on `device`.
pub fn evaluate<I: Input>(
    forward: impl Fn(I) -> Tensor<2>,
    set: &dyn ExampleSet<I>,
    batch_size: usize,
    device: &Device,
) -> Evaluation {
    let mut sums = SplitSums::default();
    for indices in batches_in_order(set.len(), batch_size) {
        let batch = set.batch(&indices, device);
        let n = batch.targets.dims()[0] as u64;
        let (_, loss, correct) = score(forward(batch.input), batch.targets);
        sums.add(loss, correct, n);
    }
    Evaluation {
        loss: sums.loss(),
        accuracy: sums.accuracy(),
        examples: sums.examples,
    }
}
