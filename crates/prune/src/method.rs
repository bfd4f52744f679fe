//! [`PruneMethod`]: physical masks on the Method API. The trainable weight holds zeros at
//! pruned positions: after every optimizer step `W ← W ⊙ M`, and the optimizer's state is
//! zeroed where `M = 0` (momentum; Adam's moments and per-element step), so pruned weights stay
//! zero and regrown ones start clean. Backward runs on the zero-filled weight, so the dense
//! gradient, the regrowth signal, is the one the step computed (stashed in `before_step` on an
//! event step). Masks and the event record are method state, checkpointed.
//!
//! One optimizer step `t` (counted after the step) in `after_step`, as GraNet's CIFAR code
//! (spec §4.7): apply the current masks; on a GMP event, prune by magnitude to `s_t`; GraNet then
//! drops `⌈r_t·nnz⌉` per layer by magnitude and regrows as many by |dense gradient|, at every
//! `ΔT` from `t₀` to the end of training; RigL (§5.2) restores the weights and the optimizer
//! state the step changed (no weight update on a mask step) and drops/grows `⌊f_t·nnz⌋` per layer.
//! Finally the new masks are applied to the weights and the optimizer state.

use crate::config::{AUTO_SPARSE_KERNEL, Distribution, PruneConfig, PruneKind, Scope, SparseKernel};
use crate::kernel::{CsrLinear, SparseLinears};
use crate::erk::erk_densities;
use crate::magnitude::{global_magnitude, gradient_growth, layerwise_magnitude, magnitude_death};
use crate::masks::{bernoulli, exact, layer_seed};
use crate::oneshot::{Amount, global_unstructured, l1_unstructured};
use crate::schedule::{GmpSchedule, cosine_fraction};
use crate::scores::{self, keep_above_kth};
use burn::module::ParamId;
use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorData};
use plasticity_core::optim::{ElementMask, OptimizerState};
use plasticity_core::{
    ArtifactContext, AttachContext, Forward, Hook, Method, Mode, MethodModules, MethodResult, OptimizerNeeds, ParamInfo, PlasticModel, StepContext, TaskContext, TensorState, host_values, param_infos, set_params, walk_params,
};
use plasticity_peft::{Selection, TargetModules, select_targets};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

const NAME: &str = "prune";

/// One pruned weight.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub(crate) path: String,
    pub(crate) id: ParamId,
    pub(crate) shape: Vec<usize>,
}

/// A pruning or mask-update event: its step, the target sparsity (GMP) and every layer's nnz.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub step: u64,
    pub target_sparsity: Option<f64>,
    pub nnz: Vec<usize>,
}

pub struct PruneMethod {
    config: PruneConfig,
    seed: u64,
    targets: Vec<Target>,
    masks: Vec<Vec<bool>>,
    /// The masks as 0/1 tensors on the model's device, and inverted for the optimizer-state
    /// reset (both rebuilt when the masks change).
    device_masks: Option<Vec<Tensor<1>>>,
    reset_masks: Option<Vec<ElementMask>>,
    total_steps: u64,
    schedule: Option<GmpSchedule>,
    /// The dense gradients of an event step, by target.
    grads: Option<Vec<Vec<f32>>>,
    /// RigL: the weights and optimizer state before a mask step's update.
    stash: Option<(Vec<Tensor<1>>, Option<OptimizerState>)>,
    events: Vec<Event>,
    /// The sparse layers of evaluation, by linear point, and the step they were built at.
    sparse: Mutex<Option<(u64, Arc<Vec<Option<Arc<CsrLinear>>>>)>>,
}

/// The weights `[prune]` targets: `target_modules` (default every Linear and Conv2d weight) less
/// `exclude_modules`, the first and last kept dense if asked.
pub(crate) fn select<M: PlasticModel>(config: &PruneConfig, model: &M) -> MethodResult<Vec<Target>> {
    let infos = param_infos(model);
    let targets = match &config.target_modules {
        Some(t) => t.clone(),
        None => TargetModules::Names(infos.iter().filter(|p| layer_weight(p)).map(|p| p.module().to_string()).collect()),
    };
    let selection = select_targets(model, NAME, &targets, config.exclude_modules.as_ref(), false).map_err(|e| e.to_string())?;
    let mut modules = selection.modules;
    if config.dense_last {
        modules.pop();
    }
    if config.dense_first && !modules.is_empty() {
        modules.remove(0);
    }
    if modules.is_empty() {
        return Err("prune: no weight left to prune (check target_modules, dense_first, dense_last)".into());
    }
    modules
        .iter()
        .map(|m| {
            let path = Selection::weight_path(m);
            let p = infos.iter().find(|p| p.path == path).ok_or_else(|| format!("prune: no parameter `{path}`"))?;
            Ok(Target {
                path,
                id: p.id,
                shape: p.shape.clone(),
            })
        })
        .collect()
}

/// Whether `p` is a Linear or Conv2d weight (the default targets).
fn layer_weight(p: &ParamInfo) -> bool {
    p.adapter.is_none() && p.method.is_none() && p.path.ends_with("weight") && ["Struct:Linear", "Struct:Conv2d"].contains(&p.owner.as_str())
}


impl PruneMethod {
    /// `seed`: the run's seed (random initial masks are drawn from streams of it).
    pub fn new(config: PruneConfig, seed: u64) -> Self {
        Self {
            config,
            seed,
            targets: Vec::new(),
            masks: Vec::new(),
            device_masks: None,
            reset_masks: None,
            total_steps: 0,
            schedule: None,
            grads: None,
            stash: None,
            events: Vec::new(),
            sparse: Mutex::new(None),
        }
    }

    /// Paths of the pruned weights and their masks.
    pub fn masks(&self) -> impl Iterator<Item = (&str, &[bool])> {
        self.targets.iter().zip(&self.masks).map(|(t, m)| (t.path.as_str(), m.as_slice()))
    }

    /// The schedule (GMP, GraNet).
    pub fn schedule(&self) -> Option<&GmpSchedule> {
        self.schedule.as_ref()
    }

    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The dense gradients `before_step` stashed for this step's regrowth, by target (between
    /// `before_step` and `after_step` of an event step).
    pub fn stashed_gradients(&self) -> Option<&[Vec<f32>]> {
        self.grads.as_deref()
    }

    /// The initial masks: dense, or random at the distribution's densities.
    fn initial_masks(&self) -> Vec<Vec<bool>> {
        let c = &self.config;
        let sparsity = match c.method {
            PruneKind::Rigl => c.final_sparsity,
            _ => c.init_sparsity,
        };
        let shapes: Vec<Vec<usize>> = self.targets.iter().map(|t| t.shape.clone()).collect();
        if sparsity == 0.0 {
            return shapes.iter().map(|s| vec![true; s.iter().product()]).collect();
        }
        let densities = match c.distribution {
            Distribution::Erk => erk_densities(&shapes, 1.0 - sparsity),
            Distribution::Uniform => vec![1.0 - sparsity; shapes.len()],
        };
        shapes
            .iter()
            .zip(densities)
            .enumerate()
            .map(|(l, (s, d))| {
                let n = s.iter().product();
                match c.method {
                    PruneKind::Rigl => exact(n, d, layer_seed(self.seed, l)),
                    _ => bernoulli(n, d, layer_seed(self.seed, l)),
                }
            })
            .collect()
    }

    /// The targets' current values, flattened, in host memory.
    fn weights<M: PlasticModel>(&self, model: &M) -> Vec<Vec<f32>> {
        let mut by_path = BTreeMap::new();
        walk_params(model, true, |info, value| {
            if self.targets.iter().any(|t| t.path == info.path)
                && let Some(v) = value.and_then(|v| v.flatten())
            {
                by_path.insert(info.path.clone(), host_values(v));
            }
        });
        self.targets.iter().map(|t| by_path.remove(&t.path).unwrap_or_default()).collect()
    }

    /// `W ← W ⊙ M` for every target, and the optimizer state zeroed where `M = 0`.
    fn apply<M: PlasticModel>(&mut self, model: M, optimizer: Option<&mut OptimizerState>) -> M {
        let mut values = BTreeMap::new();
        let (targets, masks, cache) = (&self.targets, &self.masks, &mut self.device_masks);
        walk_params(&model, true, |info, value| {
            if let Some(l) = targets.iter().position(|t| t.path == info.path)
                && let Some(w) = value.and_then(|v| v.flatten())
            {
                let device = w.device();
                let device_masks = cache.get_or_insert_with(|| {
                    masks
                        .iter()
                        .map(|m| {
                            let v: Vec<f32> = m.iter().map(|&k| f32::from(u8::from(k))).collect();
                            let n = v.len();
                            Tensor::<1>::from_data(TensorData::new(v, [n]), &device)
                        })
                        .collect()
                });
                values.insert(info.path.clone(), w.detach() * device_masks[l].clone());
            }
        });
        let model = set_params(model, values);
        if let Some(state) = optimizer {
            let resets = self
                .reset_masks
                .get_or_insert_with(|| self.masks.iter().map(|m| ElementMask::Host(m.iter().map(|&k| !k).collect())).collect());
            for (t, reset) in self.targets.iter().zip(resets.iter()) {
                state.reset_elements(t.id, reset);
            }
        }
        model
    }

    fn set_masks(&mut self, masks: Vec<Vec<bool>>) {
        self.masks = masks;
        self.device_masks = None;
        self.reset_masks = None;
    }

    /// Whether step `t` (counted after it) updates masks by regrowth: GraNet at every `ΔT` from
    /// `t₀` on; RigL at every `ΔT` up to `rigl_end` of the run.
    fn regrowth_step(&self, t: u64) -> bool {
        let f = self.config.frequency();
        match self.config.method {
            PruneKind::Gmp => false,
            PruneKind::Granet => t >= self.config.start && t.is_multiple_of(f),
            PruneKind::Rigl => t.is_multiple_of(f) && (t as f64) <= self.config.rigl_end * self.total_steps as f64,
            _ => false,
        }
    }

    /// The one-shot masks at `final_sparsity`, scored on `model` (see [`PruneKind::one_shot`]).
    fn one_shot_masks<M: PlasticModel>(&mut self, model: M, task: &TaskContext<M::Input>) -> MethodResult<M> {
        let s = self.config.final_sparsity;
        let paths: Vec<String> = self.targets.iter().map(|t| t.path.clone()).collect();
        let n: usize = self.masks.iter().map(|m| m.len()).sum();
        let masks = match self.config.method {
            PruneKind::Magnitude => {
                let w = self.weights(&model);
                let refs: Vec<&[f32]> = w.iter().map(|v| v.as_slice()).collect();
                let all: Vec<&[bool]> = self.masks.iter().map(|m| m.as_slice()).collect();
                match self.config.scope {
                    Scope::Global => global_unstructured(&refs, &all, Amount::Fraction(s))?,
                    Scope::Layer => refs.iter().zip(&all).map(|(w, m)| l1_unstructured(w, m, Amount::Fraction(s))).collect::<Result<_, _>>()?,
                }
            }
            PruneKind::Snip => {
                let scores = scores::snip(&model, task.data.train.as_ref(), &paths, self.config.score_batches, task.batch_size, task.device)?;
                keep_above_kth(&scores, (s * n as f64) as usize)
            }
            PruneKind::Synflow => {
                let probe = task.data.train.batch(&[0], task.device).input;
                let (masks, model) = scores::synflow_masks(model, &probe, &paths, s, self.config.iterations)?;
                self.set_masks(masks);
                return Ok(self.apply(model, None));
            }
            _ => return Ok(model),
        };
        self.set_masks(masks);
        Ok(self.apply(model, None))
    }

    /// The sparse kernel of each linear point of `model` whose weight is a target and sparse
    /// enough (`sparse_kernel`), built from the weights of step `step` (cached until the step
    /// changes).
    fn sparse_layers<M: PlasticModel>(&self, model: &M, step: u64) -> Arc<Vec<Option<Arc<CsrLinear>>>> {
        let mut cache = self.sparse.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, layers)) = cache.as_ref()
            && *at == step
        {
            return layers.clone();
        }
        let min_sparsity = match self.config.sparse_kernel {
            SparseKernel::Always => 0.0,
            SparseKernel::Auto => AUTO_SPARSE_KERNEL,
            SparseKernel::Never => f64::INFINITY,
        };
        let weights = self.weights(model);
        let mut biases = BTreeMap::new();
        walk_params(model, true, |info, value| {
            if info.path.ends_with(".bias") && info.adapter.is_none()
                && let Some(v) = value.and_then(|v| v.flatten())
            {
                biases.insert(info.path.clone(), host_values(v));
            }
        });
        let layers: Vec<Option<Arc<CsrLinear>>> = model
            .linear_points()
            .iter()
            .map(|point| {
                let l = self.targets.iter().position(|t| t.path == format!("{point}.weight"))?;
                let (mask, shape) = (&self.masks[l], &self.targets[l].shape);
                let sparsity = 1.0 - mask.iter().filter(|&&k| k).count() as f64 / mask.len().max(1) as f64;
                (shape.len() == 2 && sparsity >= min_sparsity).then(|| {
                    Arc::new(CsrLinear::from_dense(&weights[l], shape[0], shape[1], biases.get(&format!("{point}.bias")).cloned()))
                })
            })
            .collect();
        let layers = Arc::new(layers);
        *cache = Some((step, layers.clone()));
        layers
    }

    fn nnz(&self) -> Vec<usize> {
        self.masks.iter().map(|m| m.iter().filter(|&&k| k).count()).collect()
    }
}

impl<M: PlasticModel> Method<M> for PruneMethod {
    fn name(&self) -> String {
        NAME.into()
    }

    fn optimizer_needs(&self) -> OptimizerNeeds {
        OptimizerNeeds::PER_ELEMENT
    }

    fn attach(&mut self, model: M, cx: &AttachContext) -> MethodResult<M> {
        self.config.validate().map_err(|(k, m)| format!("{k}: {m}"))?;
        self.total_steps = cx.total_steps as u64;
        self.targets = select(&self.config, &model)?;
        // A finished run being loaded (`eval`, `inspect`) keeps its masks and needs no schedule.
        if matches!(self.config.method, PruneKind::Gmp | PruneKind::Granet) && cx.run_dir.is_none() {
            let end = self.config.end.unwrap_or(self.total_steps / 2);
            let schedule = GmpSchedule::new(self.config.start, end, self.config.frequency(), self.config.init_sparsity, self.config.final_sparsity)
                .map_err(|(k, m)| format!("{k}: {m}"))?;
            self.schedule = Some(schedule);
        }
        if self.masks.is_empty() {
            let masks = self.initial_masks();
            self.set_masks(masks);
        } else if self.masks.len() != self.targets.len()
            || self.masks.iter().zip(&self.targets).any(|(m, t)| m.len() != t.shape.iter().product::<usize>())
        {
            return Err("prune: the saved masks do not fit this model's targets".into());
        }
        Ok(self.apply(model, None))
    }

    /// Loading a checkpoint restores its parameter ids: find the targets' ids again.
    fn loaded(&mut self, model: &M) -> MethodResult<()> {
        let infos = param_infos(model);
        for t in &mut self.targets {
            t.id = infos.iter().find(|p| p.path == t.path).map(|p| p.id).ok_or_else(|| format!("prune: no parameter `{}`", t.path))?;
        }
        Ok(())
    }

    /// Evaluation computes sparse enough Linear layers with the CPU kernel ([`CsrLinear`]).
    fn hooks(&self, model: &M, _modules: &MethodModules, forward: Forward) -> Vec<Box<dyn Hook>> {
        if forward.mode != Mode::Eval || self.config.sparse_kernel == SparseKernel::Never {
            return Vec::new();
        }
        let layers = self.sparse_layers(model, forward.step);
        match layers.iter().any(Option::is_some) {
            true => vec![Box::new(SparseLinears(layers))],
            false => Vec::new(),
        }
    }

    /// One-shot methods choose their mask here, before the first step of the run (a resumed run
    /// has it in its state and does not come here).
    fn task_start(&mut self, model: M, task: &TaskContext<M::Input>) -> MethodResult<M> {
        if !self.config.method.one_shot() || task.index > 0 || !self.events.is_empty() {
            return Ok(model);
        }
        let started = std::time::Instant::now();
        let model = self.one_shot_masks(model, task).map_err(|e| format!("prune ({:?}): {e}", self.config.method).to_lowercase())?;
        self.events.push(Event {
            step: 0,
            target_sparsity: Some(self.config.final_sparsity),
            nnz: self.nnz(),
        });
        tracing::info!("prune: one-shot {:?} mask in {:.2} s", self.config.method, started.elapsed().as_secs_f64());
        Ok(model)
    }

    fn before_step(&mut self, model: &M, grads: &mut GradientsParams, cx: &mut StepContext) -> MethodResult<()> {
        let t = cx.step + 1;
        if !self.regrowth_step(t) {
            return Ok(());
        }
        let mut stashed = Vec::new();
        let mut values = BTreeMap::new();
        walk_params(model, true, |info, value| {
            if self.targets.iter().any(|t| t.path == info.path) {
                values.insert(info.path.clone(), value.and_then(|v| v.flatten()));
            }
        });
        for target in &self.targets {
            let n: usize = target.shape.iter().product();
            let g = match target.shape.len() {
                2 => grads.get::<2>(target.id).map(|g| host_values(g.reshape([n]))),
                4 => grads.get::<4>(target.id).map(|g| host_values(g.reshape([n]))),
                _ => None,
            };
            stashed.push(g.unwrap_or_else(|| vec![0.0; n]));
        }
        self.grads = Some(stashed);
        if self.config.method == PruneKind::Rigl {
            let weights = self
                .targets
                .iter()
                .map(|t| values.remove(&t.path).flatten().map(|w| w.detach()).ok_or_else(|| format!("prune: no parameter `{}`", t.path)))
                .collect::<Result<Vec<_>, String>>()?;
            self.stash = Some((weights, cx.optimizer.as_deref().cloned()));
        }
        Ok(())
    }

    fn after_step(&mut self, model: M, _modules: &mut MethodModules, cx: &mut StepContext) -> MethodResult<M> {
        let t = cx.step + 1;
        // The update moved pruned positions: mask them before scoring anything.
        let mut model = self.apply(model, cx.optimizer.as_deref_mut());
        let mut target_sparsity = None;
        let mut changed = false;
        if let Some(s) = self.schedule.as_ref().and_then(|s| s.at(t)) {
            let w = self.weights(&model);
            let refs: Vec<&[f32]> = w.iter().map(|v| v.as_slice()).collect();
            let masks = match self.config.scope {
                Scope::Global => global_magnitude(&refs, s),
                Scope::Layer => layerwise_magnitude(&refs, s),
            };
            self.set_masks(masks);
            target_sparsity = Some(s);
            changed = true;
        }
        if let Some(grads) = self.grads.take() {
            match self.config.method {
                PruneKind::Granet => {
                    model = self.apply(model, None);
                    let r = cosine_fraction(self.config.regeneration, t, self.total_steps, 0.005);
                    let w = self.weights(&model);
                    let masks = self
                        .masks
                        .iter()
                        .zip(&w)
                        .zip(&grads)
                        .map(|((m, w), g)| {
                            let dropped = magnitude_death(m, w, r);
                            let removed = m.iter().filter(|&&k| k).count() - dropped.iter().filter(|&&k| k).count();
                            gradient_growth(&dropped, g, removed)
                        })
                        .collect();
                    self.set_masks(masks);
                }
                PruneKind::Rigl => {
                    let (weights, state) = self.stash.take().ok_or("prune: RigL's stash is missing")?;
                    // No weight update on a mask step: the weights and optimizer state before it.
                    let values = self.targets.iter().map(|t| t.path.clone()).zip(weights.iter().cloned()).collect();
                    model = set_params(model, values);
                    let weights: Vec<Vec<f32>> = weights.into_iter().map(host_values).collect();
                    if let (Some(saved), Some(current)) = (state, cx.optimizer.as_deref_mut()) {
                        *current = saved;
                    }
                    let end = (self.config.rigl_end * self.total_steps as f64).max(1.0);
                    let f = self.config.drop_fraction / 2.0 * (1.0 + (std::f64::consts::PI * t as f64 / end).cos());
                    let masks = self.masks.iter().zip(&weights).zip(&grads).map(|((m, w), g)| rigl_update(m, w, g, f)).collect();
                    self.set_masks(masks);
                }
                _ => {}
            }
            changed = true;
        }
        if changed {
            model = self.apply(model, cx.optimizer.as_deref_mut());
            self.events.push(Event {
                step: t,
                target_sparsity,
                nnz: self.nnz(),
            });
        }
        Ok(model)
    }

    fn state(&self) -> TensorState {
        let mut state = TensorState::new();
        for (t, m) in self.targets.iter().zip(&self.masks) {
            state.put_vec(format!("{}/mask", t.path), m.iter().map(|&k| f32::from(u8::from(k))).collect(), vec![m.len()]);
        }
        state.meta = serde_json::json!({ "paths": self.targets.iter().map(|t| &t.path).collect::<Vec<_>>(), "events": self.events });
        state
    }

    fn restore(&mut self, state: TensorState) -> MethodResult<()> {
        let paths: Vec<String> = serde_json::from_value(state.meta["paths"].clone()).map_err(|e| format!("{NAME}: saved paths: {e}"))?;
        self.events = serde_json::from_value(state.meta["events"].clone()).map_err(|e| format!("{NAME}: saved events: {e}"))?;
        let masks = paths
            .iter()
            .map(|p| {
                state
                    .get_vec(&format!("{p}/mask"))
                    .map(|v| v.into_iter().map(|x| x != 0.0).collect())
                    .ok_or_else(|| format!("{NAME}: saved state lacks the mask of `{p}`"))
            })
            .collect::<Result<Vec<Vec<bool>>, String>>()?;
        self.set_masks(masks);
        Ok(())
    }

    /// The pruned model as burnpack and in the compact sparse format (`crate::format`).
    fn export(&self, model: &M, out: &std::path::Path) -> MethodResult<plasticity_core::Export> {
        Ok(plasticity_core::Export {
            written: crate::format::export_pruned(model, out)?,
            bake: Vec::new(),
        })
    }

    /// The final per-layer and global counts (results.json's `prune` section) and
    /// `sparsity.png`: each layer's and the global sparsity after every event.
    fn artifacts(&self, _model: &M, _modules: &MethodModules, cx: &ArtifactContext<M::Input>) -> MethodResult<Option<serde_json::Value>> {
        let nnz = self.nnz();
        let total: Vec<usize> = self.masks.iter().map(|m| m.len()).collect();
        if !self.events.is_empty() {
            let sparsity = |k: usize, n: usize| 1.0 - k as f64 / n.max(1) as f64;
            let all: usize = total.iter().sum();
            let mut series: Vec<plasticity_plot::Series> = self
                .targets
                .iter()
                .enumerate()
                .map(|(l, t)| plasticity_plot::Series {
                    name: t.path.clone(),
                    points: self.events.iter().map(|e| (e.step as f64, sparsity(e.nnz[l], total[l]))).collect(),
                })
                .collect();
            series.push(plasticity_plot::Series {
                name: "global".into(),
                points: self.events.iter().map(|e| (e.step as f64, sparsity(e.nnz.iter().sum(), all))).collect(),
            });
            let panel = plasticity_plot::Panel {
                title: format!("sparsity ({:?})", self.config.method).to_lowercase(),
                x_label: "optimizer step".into(),
                y_label: "sparsity".into(),
                series,
            };
            let path = cx.dir.join("sparsity.png");
            plasticity_plot::line_chart(&path, &[panel], 640, 420).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        let layers: Vec<serde_json::Value> = self
            .targets
            .iter()
            .zip(nnz.iter().zip(&total))
            .map(|(t, (&k, &n))| serde_json::json!({ "weight": t.path, "nnz": k, "total": n, "density": k as f64 / n as f64 }))
            .collect();
        let (k, n): (usize, usize) = (nnz.iter().sum(), total.iter().sum());
        Ok(Some(serde_json::json!({
            "method": self.config.method,
            "layers": layers,
            "global": { "nnz": k, "total": n, "sparsity": 1.0 - k as f64 / n as f64 },
            "schedule_final_sparsity": self.schedule.as_ref().map(|s| s.final_sparsity()),
            "events": self.events.len(),
            "sparsity_by_event": self.events.iter().map(|e| (e.step, 1.0 - e.nnz.iter().sum::<usize>() as f64 / n as f64)).collect::<Vec<_>>(),
        })))
    }
}

/// RigL's layer update (google-research/rigl): `n = ⌊nnz·f⌋`; keep the `nnz − n` active weights
/// with the largest |w| (ties: lower index); grow the `n` positions not kept with the largest
/// |gradient| (the just dropped included; ties: lower index). Grown new connections are 0.
pub fn rigl_update(mask: &[bool], weight: &[f32], grad: &[f32], fraction: f64) -> Vec<bool> {
    let active: Vec<usize> = (0..mask.len()).filter(|&i| mask[i]).collect();
    let n = (active.len() as f64 * fraction) as usize;
    if n == 0 {
        return mask.to_vec();
    }
    let mut by_magnitude = active.clone();
    by_magnitude.sort_by(|&a, &b| weight[b].abs().total_cmp(&weight[a].abs()).then(a.cmp(&b)));
    let mut kept = vec![false; mask.len()];
    by_magnitude.iter().take(active.len() - n).for_each(|&i| kept[i] = true);
    let mut candidates: Vec<usize> = (0..mask.len()).filter(|&i| !kept[i]).collect();
    candidates.sort_by(|&a, &b| grad[b].abs().total_cmp(&grad[a].abs()).then(a.cmp(&b)));
    candidates.iter().take(n).for_each(|&i| kept[i] = true);
    kept
}
