//! Diagonal Fisher estimators (spec continual.md §2.1; van de Ven, "On the computation of the
//! Fisher Information in continual learning", arXiv:2502.11756):
//!
//! - `exact`: per example, `Σ_c p(c|x) · (∇ log p(c|x))²` (one backward pass per class);
//! - `sampled`: per example, `(∇ log p(ŷ|x))²` with `ŷ ~ p(·|x)`;
//! - `empirical`: per example, `(∇ log p(y|x))²` with the true label `y`;
//! - `batched` (Avalanche's `EWCPlugin`): per minibatch, `(∇ mean-batch loss)²`, summed and
//!   divided by the number of minibatches.
//!
//! The per-example estimators average over the examples used (the first `samples` of the
//! training set, or all of it). Importances are keyed by parameter path, flattened to `[n]`,
//! for every trainable parameter.

use burn::module::{ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use plasticity_core::{ExampleSet, PlasticModel, param_infos};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which estimator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FisherEstimator {
    Exact,
    Sampled,
    Empirical,
    Batched,
}

/// Importance by parameter path, `[n]` each.
pub type Importance = BTreeMap<String, Tensor<1>>;

/// Adds the squared gradients of `grads`, times `weight`, to `sum`.
struct AddSquared<'a> {
    paths: BTreeMap<burn::module::ParamId, String>,
    grads: &'a GradientsParams,
    weight: f64,
    sum: &'a mut Importance,
}

impl ModuleVisitor for AddSquared<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let (Some(path), Some(g)) = (self.paths.get(&param.id), self.grads.get::<D>(param.id)) else {
            return;
        };
        let n = g.shape().num_elements();
        let squared = g.reshape([n]).square().mul_scalar(self.weight);
        let entry = self.sum.remove(path);
        self.sum.insert(path.clone(), entry.map_or(squared.clone(), |s| s + squared));
    }
}

/// `−log p(label|x)` summed over the batch, as a `[1]` tensor, and `p(·|x)` `[batch, classes]`.
fn nll<M: PlasticModel>(model: &M, input: M::Input, labels: Tensor<1, Int>) -> (Tensor<1>, Tensor<2>) {
    let log_p = log_softmax(model.forward(input), 1);
    let picked = log_p.clone().gather(1, labels.unsqueeze_dim(1));
    (picked.sum().neg(), log_p.exp())
}

fn accumulate<M: PlasticModel>(model: &M, loss: Tensor<1>, weight: f64, sum: &mut Importance) {
    let grads = GradientsParams::from_grads(loss.backward(), model);
    let paths = param_infos(model).into_iter().filter(|p| p.trainable).map(|p| (p.id, p.path)).collect();
    model.visit(&mut AddSquared {
        paths,
        grads: &grads,
        weight,
        sum,
    });
}

/// The diagonal Fisher of `model` (an autodiff model on `device`) over `data`. `samples`
/// limits the per-example estimators to the first `samples` examples.
pub fn fisher<M: PlasticModel>(
    model: &M,
    data: &dyn ExampleSet<M::Input>,
    estimator: FisherEstimator,
    samples: Option<usize>,
    batch_size: usize,
    device: &Device,
) -> Importance {
    let mut sum = Importance::new();
    let label = |c: usize| Tensor::<1, Int>::from_data(TensorData::new(vec![c as i64], [1]), device);
    if estimator == FisherEstimator::Batched {
        let indices: Vec<usize> = (0..data.len()).collect();
        let chunks: Vec<&[usize]> = indices.chunks(batch_size.max(1)).collect();
        for chunk in &chunks {
            let batch = data.batch(chunk, device);
            let (loss, _) = nll(model, batch.input, batch.targets);
            accumulate(model, loss.div_scalar(chunk.len() as f64), 1.0 / chunks.len() as f64, &mut sum);
        }
        return sum;
    }
    let n = samples.unwrap_or(data.len()).min(data.len());
    for i in 0..n {
        let batch = data.batch(&[i], device);
        match estimator {
            FisherEstimator::Empirical => {
                let (loss, _) = nll(model, batch.input, batch.targets);
                accumulate(model, loss, 1.0 / n as f64, &mut sum);
            }
            sampled_or_exact => {
                let probs: Vec<f64> = {
                    let (_, p) = nll(model, batch.input.clone(), batch.targets.clone());
                    p.inner().into_data().convert::<f64>().try_to_vec::<f64>().unwrap_or_default()
                };
                if sampled_or_exact == FisherEstimator::Sampled {
                    let u: f64 = Tensor::<1>::random([1], Distribution::Uniform(0.0, 1.0), &device.clone().inner())
                        .into_scalar::<f64>();
                    let mut c = 0;
                    let mut cumulative = probs[0];
                    while cumulative < u && c + 1 < probs.len() {
                        c += 1;
                        cumulative += probs[c];
                    }
                    let (loss, _) = nll(model, batch.input, label(c));
                    accumulate(model, loss, 1.0 / n as f64, &mut sum);
                } else {
                    for (c, &p) in probs.iter().enumerate() {
                        let (loss, _) = nll(model, batch.input.clone(), label(c));
                        accumulate(model, loss, p / n as f64, &mut sum);
                    }
                }
            }
        }
    }
    sum
}
