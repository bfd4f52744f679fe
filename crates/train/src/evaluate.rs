//! Evaluation of a trained model on a labelled set.

use crate::history::SplitSums;
use crate::trainee::score;
use burn::data::dataloader::DataLoader;
use burn::tensor::Tensor;
use plasticity_data::{ClassBatch, ImageSet, SequentialLoader};
use serde::Serialize;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct Evaluation {
    pub loss: f64,
    pub accuracy: f64,
    pub examples: u64,
}

/// Mean cross-entropy and accuracy of `forward` (`[batch, features] -> logits`, a model in
/// inference mode) on `set`.
pub fn evaluate(
    forward: impl Fn(Tensor<2>) -> Tensor<2>,
    set: Arc<ImageSet>,
    batch_size: usize,
    device: &burn::tensor::Device,
) -> Result<Evaluation, plasticity_data::DataError> {
    let loader = SequentialLoader::new(set, batch_size, device.clone())?;
    let mut sums = SplitSums::default();
    for batch in loader.iter().flatten() {
        let ClassBatch { images, targets } = batch;
        let n = targets.dims()[0] as u64;
        let (_, loss, correct) = score(forward(images), targets);
        sums.add(loss, correct, n);
    }
    Ok(Evaluation {
        loss: sums.loss(),
        accuracy: sums.accuracy(),
        examples: sums.examples,
    })
}
