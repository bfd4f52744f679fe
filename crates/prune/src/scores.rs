//! Saliency scores of the one-shot methods that prune at initialization (spec
//! reparam-prune.md §5.3-5.4, after ganguli-lab/Synaptic-Flow's `Pruners/pruners.py`):
//!
//! - **SNIP**: `s = |∂L/∂w ⊙ w|` (the gradient of a multiplicative mask at 1), summed over the
//!   scoring batches and normalized by `Σ s`;
//! - **SynFlow**: data-free; every parameter replaced by its absolute value, the input by ones
//!   (one example), `R = Σ output`, and `s = |∂R/∂w ⊙ w|` on the absolute weights.
//!
//! Both return one flattened score vector per target (by path), computed on an autodiff model.
//! [`keep_above_kth`] turns scores into masks as the repo does: the `k` lowest go, with ties at
//! the cut-off.

use burn::module::{ModuleMapper, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use burn::tensor::activation::log_softmax;
use plasticity_core::{ExampleSet, Input, PlasticModel, host_values, param_infos};
use std::cmp::Ordering;

/// `|grad ⊙ value|` of each target (by path, flattened), from one backward pass of `loss`.
fn saliency<M: PlasticModel>(model: &M, loss: Tensor<1>, targets: &[String]) -> Result<Vec<Vec<f32>>, String> {
    let grads = GradientsParams::from_grads(loss.backward(), model);
    let infos = param_infos(model);
    let mut values = std::collections::BTreeMap::new();
    plasticity_core::walk_params(model, true, |info, value| {
        if targets.contains(&info.path)
            && let Some(v) = value.and_then(|v| v.flatten())
        {
            values.insert(info.path.clone(), host_values(v));
        }
    });
    targets
        .iter()
        .map(|path| {
            let info = infos.iter().find(|p| &p.path == path).ok_or_else(|| format!("no parameter `{path}`"))?;
            let n = info.count();
            let g = match info.shape.len() {
                2 => grads.get::<2>(info.id).map(|g| host_values(g.reshape([n]))),
                4 => grads.get::<4>(info.id).map(|g| host_values(g.reshape([n]))),
                r => return Err(format!("`{path}` has rank {r}; scores are computed for rank-2 and rank-4 weights")),
            }
            .ok_or_else(|| format!("`{path}` got no gradient (is it frozen?)"))?;
            let w = values.remove(path).unwrap_or_default();
            Ok(g.iter().zip(&w).map(|(g, w)| (g * w).abs()).collect())
        })
        .collect()
}

/// SNIP's scores on the first `batches` training batches of `batch_size` (the paper: one),
/// each batch's mean cross-entropy, summed; then normalized to sum 1 over all targets.
pub fn snip<M: PlasticModel>(
    model: &M,
    data: &dyn ExampleSet<M::Input>,
    targets: &[String],
    batches: usize,
    batch_size: usize,
    device: &burn::tensor::Device,
) -> Result<Vec<Vec<f32>>, String> {
    let mut sum: Option<Vec<Vec<f32>>> = None;
    for b in 0..batches {
        let indices: Vec<usize> = (b * batch_size..((b + 1) * batch_size).min(data.len())).collect();
        if indices.is_empty() {
            break;
        }
        let batch = data.batch(&indices, device);
        let log_p = log_softmax(model.forward(batch.input), 1);
        let loss = log_p.gather(1, batch.targets.unsqueeze_dim(1)).mean().neg();
        let s = saliency(model, loss, targets)?;
        sum = Some(match sum {
            None => s,
            Some(acc) => acc.into_iter().zip(s).map(|(a, s)| a.iter().zip(&s).map(|(a, s)| a + s).collect()).collect(),
        });
    }
    let mut scores = sum.ok_or("SNIP needs at least one training example")?;
    let total: f64 = scores.iter().flatten().map(|&s| s as f64).sum();
    if total > 0.0 {
        scores.iter_mut().flatten().for_each(|s| *s = (*s as f64 / total) as f32);
    }
    Ok(scores)
}

/// Every float parameter replaced by its absolute value (ids kept), all tracked: the copy is
/// only scored, so frozen weights get their gradient too.
struct Absolute;

impl ModuleMapper for Absolute {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        Param::from_mapped_value(id, tensor.abs().detach().set_require_grad(true), mapper)
    }
}

/// SynFlow's scores of one iteration: `model` with every parameter made positive, one example
/// of `probe` set to ones, `R = Σ output`. `model` holds the current masks (pruned weights are
/// zero, so their score is zero).
pub fn synflow<M: PlasticModel>(model: &M, probe: &M::Input, targets: &[String]) -> Result<Vec<Vec<f32>>, String> {
    let positive = model.clone().map(&mut Absolute);
    let r = positive.forward(probe.ones_like()).sum();
    saliency(&positive, r, targets)
}

/// SynFlow's iterative pruning of `model` (its weights at `paths`) to `sparsity` in `iterations`
/// rounds: each round scores the model masked so far and keeps the scores above the k-th
/// lowest for that round's density. Returns the masks and the masked model.
pub fn synflow_masks<M: PlasticModel>(mut model: M, probe: &M::Input, paths: &[String], sparsity: f64, iterations: usize) -> Result<(Vec<Vec<bool>>, M), String> {
    let mut masks = Vec::new();
    for e in 0..iterations {
        let scores = synflow(&model, probe, paths)?;
        let n: usize = scores.iter().map(|s| s.len()).sum();
        let density = synflow_density(1.0 - sparsity, e, iterations);
        masks = keep_above_kth(&scores, ((1.0 - density) * n as f64) as usize);
        model = mask_weights(model, paths, &masks);
    }
    Ok((masks, model))
}

/// `model` with the weights at `paths` multiplied by `masks` (flattened, in `paths`' order).
pub fn mask_weights<M: PlasticModel>(model: M, paths: &[String], masks: &[Vec<bool>]) -> M {
    let mut values = std::collections::BTreeMap::new();
    plasticity_core::walk_params(&model, true, |info, value| {
        if let Some(l) = paths.iter().position(|p| p == &info.path)
            && let Some(w) = value.and_then(|v| v.flatten())
        {
            let keep: Vec<f32> = masks[l].iter().map(|&k| f32::from(u8::from(k))).collect();
            let n = keep.len();
            let keep = Tensor::<1>::from_data(burn::tensor::TensorData::new(keep, [n]), &w.device());
            values.insert(info.path.clone(), w.detach() * keep);
        }
    });
    plasticity_core::set_params(model, values)
}

/// SynFlow's density after iteration `e` of `iterations` (0-based): `D^((e+1)/E)`, the
/// exponential schedule to the final density `D`.
pub fn synflow_density(density: f64, e: usize, iterations: usize) -> f64 {
    density.powf((e + 1) as f64 / iterations as f64)
}

/// Masks that drop the `k` lowest scores over all layers together, as `torch.kthvalue` then
/// `score > threshold` (so every score tied with the k-th goes too); `k = 0` keeps everything.
pub fn keep_above_kth(scores: &[Vec<f32>], k: usize) -> Vec<Vec<bool>> {
    if k == 0 {
        return scores.iter().map(|s| vec![true; s.len()]).collect();
    }
    let mut all: Vec<f32> = scores.iter().flatten().copied().collect();
    let k = k.min(all.len());
    let (_, kth, _) = all.select_nth_unstable_by(k - 1, |a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
    let threshold = *kth;
    scores.iter().map(|s| s.iter().map(|&v| v > threshold).collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kth_value_cut_drops_ties_and_the_exponential_schedule_ends_at_the_density() {
        let scores = vec![vec![0.5f32, 0.1, 0.3], vec![0.3, 0.9]];
        assert_eq!(keep_above_kth(&scores, 2), vec![vec![true, false, false], vec![false, true]], "0.3 tied with the 2nd lowest");
        assert_eq!(keep_above_kth(&scores, 0), vec![vec![true; 3], vec![true; 2]]);
        assert!((synflow_density(0.01, 99, 100) - 0.01).abs() < 1e-12);
        assert!((synflow_density(0.01, 0, 100) - 0.01f64.powf(0.01)).abs() < 1e-12);
        assert!((synflow_density(0.01, 49, 100) - 0.1).abs() < 1e-12);
    }
}
