//! [`SupermaskMethod`]: `[prune] method = "supermask"`. Every targeted weight gets a
//! [`SignedSupermask`]; every parameter of the model is frozen (biases stay at their
//! initialization too: the paper's layers have none), so the scores are all that trains. After
//! every optimizer step each layer's threshold is reset to keep `1 − final_sparsity` of its
//! weights (the repo's quantile mode, `tanh_score_mask`, computed exactly instead of from 5,000
//! sampled scores).
//!
//! **HideNseek** (`method = "hidenseek"`; Vallapuram et al., arXiv:2206.04385, abstract only:
//! spec §5.6) is the same reparameterization with a fixed support: SynFlow's data-free mask at
//! initialization (global, `iterations` rounds, on the frozen weights), then a sign supermask
//! `m ∈ {−1, +1}` on the kept weights (`τ = −1`). Guessed where the abstract is silent: SynFlow
//! runs iteratively as `[prune] method = "synflow"` does (100 rounds), the signs are learned
//! through `sign(S)` with the straight-through estimator, scores start positive (the kept
//! weights start with their own sign), and the federated aggregation is left out (one client).
//!
//! Scores start uniform in `(−a, a)`, `a` the largest `|v|` of the layer (edge-popup's choice of
//! a weight-like init), drawn from the run's seeded host streams. The frozen weights are the
//! model's initialization divided by `√(1 − final_sparsity)` (edge-popup's `scale_fan`: the kept
//! weights alone then give pre-activations the variance the dense layer had; without it deep
//! signals shrink with the density).

use super::reparam::{SignedSupermask, threshold_for};
use crate::PruneConfig;
use crate::method::{Target, select};
use burn::module::{Param, Reparameterizer};
use burn::tensor::{Tensor, TensorData};
use plasticity_core::{ArtifactContext, AttachContext, Method, MethodModules, MethodResult, ParamInfo, PlasticModel, StepContext, TaskContext, host_values, set_params, walk_params};
use plasticity_data::{SplitMix64, mix};
use std::collections::BTreeMap;

const NAME: &str = "prune";

pub struct SupermaskMethod {
    config: PruneConfig,
    seed: u64,
    targets: Vec<Target>,
}

/// Attaches a [`SignedSupermask`] with fresh scores to each target.
struct Attach<'a> {
    targets: &'a [Target],
    seed: u64,
    sparsity: f64,
    /// HideNseek: positive scores (every kept weight starts with its own sign) and no threshold.
    signs_only: bool,
}

impl Reparameterizer for Attach<'_> {
    type Reparam = SignedSupermask;

    fn reparameterize<const D: usize>(&mut self, path: &str, param: Param<Tensor<D>>) -> (Param<Tensor<D>>, Option<SignedSupermask>) {
        let Some(l) = self.targets.iter().position(|t| t.path == path) else {
            return (param, None);
        };
        let v = param.val().detach();
        let n = v.shape().num_elements();
        let a = host_values(v.clone()).iter().fold(0.0f32, |m, w| m.max(w.abs())).max(f32::MIN_POSITIVE);
        let mut rng = SplitMix64::new(mix(mix(self.seed, 0x5349_474e), l as u64));
        let mut scores: Vec<f32> = (0..n).map(|_| ((2.0 * rng.next_f64() - 1.0) as f32) * a).collect();
        if self.signs_only {
            scores.iter_mut().for_each(|s| *s = s.abs().max(f32::MIN_POSITIVE));
        }
        let scores = Tensor::<1>::from_data(TensorData::new(scores, [n]), &v.device());
        // The kept weights carry the layer's signal alone: scaled by 1/√density (edge-popup's
        // `scale_fan`), so that pre-activations keep their variance at the start.
        let (id, tensor, mapper) = param.consume();
        let scaled = tensor.detach().div_scalar((1.0 - self.sparsity).sqrt()).detach().set_require_grad(false);
        let threshold = if self.signs_only { 0.0 } else { self.sparsity };
        (Param::from_mapped_value(id, scaled, mapper), Some(SignedSupermask::new(scores, threshold)))
    }
}

const REPARAM: &str = <SignedSupermask as burn::module::Reparameterization>::NAME;

fn is_part(p: &ParamInfo, field: &str) -> bool {
    p.adapter.as_ref().is_some_and(|a| a.name == REPARAM && a.field == field)
}

/// The path of `field` of the supermask on the weight at `weight`.
fn part_path(weight: &str, field: &str) -> String {
    format!("{weight}.{REPARAM}.{field}")
}

impl SupermaskMethod {
    pub fn new(config: PruneConfig, seed: u64) -> Self {
        Self { config, seed, targets: Vec::new() }
    }

    fn hidenseek(&self) -> bool {
        self.config.method == crate::PruneKind::Hidenseek
    }

    /// Each target's mask `{−1, 0, +1}` (flattened), by the weight's path.
    pub fn masks<M: PlasticModel>(&self, model: &M) -> Vec<(String, Vec<f32>)> {
        let (mut scores, mut thresholds, mut supports) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
        walk_params(model, true, |info, value| {
            let Some((a, v)) = info.adapter.as_ref().zip(value.and_then(|v| v.flatten())) else { return };
            if is_part(info, "scores") {
                scores.insert(a.base.clone(), host_values(v));
            } else if is_part(info, "threshold") {
                thresholds.insert(a.base.clone(), host_values(v)[0]);
            } else if is_part(info, "support") {
                supports.insert(a.base.clone(), host_values(v));
            }
        });
        scores
            .into_iter()
            .map(|(path, s)| {
                let tau = thresholds.get(&path).copied().unwrap_or(-1.0);
                let support = supports.remove(&path).unwrap_or_else(|| vec![1.0; s.len()]);
                let m = s.iter().zip(support).map(|(&x, k)| if x.abs() > tau && k != 0.0 { x.signum() } else { 0.0 }).collect();
                (path, m)
            })
            .collect()
    }
}

impl<M: PlasticModel> Method<M> for SupermaskMethod {
    fn name(&self) -> String {
        NAME.into()
    }

    fn attach(&mut self, model: M, _cx: &AttachContext) -> MethodResult<M> {
        self.config.validate().map_err(|(k, m)| format!("{k}: {m}"))?;
        self.targets = select(&self.config, &model)?;
        let model = model.no_grad();
        Ok(model.apply_reparameterization(Attach {
            targets: &self.targets,
            seed: self.seed,
            sparsity: self.config.final_sparsity,
            signs_only: self.hidenseek(),
        }))
    }

    /// HideNseek's support: SynFlow (data-free, on the frozen weights) before the first step.
    fn task_start(&mut self, model: M, task: &TaskContext<M::Input>) -> MethodResult<M> {
        if !self.hidenseek() || task.index > 0 {
            return Ok(model);
        }
        let paths: Vec<String> = self.targets.iter().map(|t| t.path.clone()).collect();
        let probe = task.data.train.batch(&[0], task.device).input;
        let (masks, _) = crate::scores::synflow_masks(model.clone().materialize(), &probe, &paths, self.config.final_sparsity, self.config.iterations)
            .map_err(|e| format!("prune (hidenseek): {e}"))?;
        let mut values = BTreeMap::new();
        for (t, m) in self.targets.iter().zip(&masks) {
            let v: Vec<f32> = m.iter().map(|&k| f32::from(u8::from(k))).collect();
            let n = v.len();
            values.insert(part_path(&t.path, "support"), Tensor::<1>::from_data(TensorData::new(v, [n]), task.device));
        }
        Ok(set_params(model, values))
    }

    /// Each layer's threshold reset to the `final_sparsity` quantile of its new `|S|` (HideNseek
    /// keeps its support and learns signs only).
    fn after_step(&mut self, model: M, _modules: &mut MethodModules, _cx: &mut StepContext) -> MethodResult<M> {
        if self.hidenseek() {
            return Ok(model);
        }
        let mut values = BTreeMap::new();
        walk_params(&model, true, |info, value| {
            if is_part(info, "scores")
                && let Some(v) = value.and_then(|v| v.flatten())
            {
                let tau = threshold_for(&host_values(v.clone()), self.config.final_sparsity);
                let path = part_path(info.adapter.as_ref().map_or("", |a| a.base.as_str()), "threshold");
                values.insert(path, Tensor::<1>::from_data(TensorData::new(vec![tau], [1]), &v.device()));
            }
        });
        Ok(set_params(model, values))
    }

    /// The folded model (`v ⊙ m`) as burnpack and in the compact sparse format; PyTorch's
    /// `base.safetensors` gets the folded weights too.
    fn export(&self, model: &M, out: &std::path::Path) -> MethodResult<plasticity_core::Export> {
        Ok(plasticity_core::Export {
            written: crate::format::export_pruned(model, out)?,
            bake: self.targets.iter().map(|t| t.path.clone()).collect(),
        })
    }

    fn role(&self, param: &ParamInfo) -> Option<String> {
        ["scores", "threshold", "support"].into_iter().find(|f| is_part(param, f)).map(|f| format!("supermask {f}"))
    }

    /// Per layer: weights kept (+1), inverted (−1) and hidden (0); and the global sparsity.
    fn artifacts(&self, model: &M, _modules: &MethodModules, _cx: &ArtifactContext<M::Input>) -> MethodResult<Option<serde_json::Value>> {
        let masks = self.masks(model);
        let count = |m: &[f32], v: f32| m.iter().filter(|&&x| x == v).count();
        let layers: Vec<serde_json::Value> = masks
            .iter()
            .map(|(p, m)| serde_json::json!({ "weight": p, "total": m.len(), "keep": count(m, 1.0), "invert": count(m, -1.0), "hide": count(m, 0.0), "density": 1.0 - count(m, 0.0) as f64 / m.len() as f64 }))
            .collect();
        let n: usize = masks.iter().map(|(_, m)| m.len()).sum();
        let hidden: usize = masks.iter().map(|(_, m)| count(m, 0.0)).sum();
        Ok(Some(serde_json::json!({
            "method": self.config.method,
            "layers": layers,
            "global": { "nnz": n - hidden, "total": n, "sparsity": hidden as f64 / n.max(1) as f64 },
        })))
    }
}
