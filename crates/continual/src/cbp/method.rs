//! [`CbpMethod`]: continual backprop on the Method API. A training forward pass records every
//! hidden layer's activation (an observer hook); after each optimizer step ([`Method::after_step`])
//! each layer's utilities are updated ([`UnitState::step`]) and its lowest-utility mature units
//! are replaced: new incoming weights drawn from `U(−b, b)` (the seeded host stream of the run's
//! seed, the step and the layer), bias 0, outgoing weights 0, age 0, and the optimizer state of
//! exactly those entries reset (Adam's moments and per-element step, which this method asks
//! for: AdamGnT; SGD's momentum).

use super::config::{CbpConfig, InitBound};
use super::layout::{UnitLayout, unit_layouts};
use super::utility::{StepStats, UnitState};
use burn::tensor::{Tensor, TensorData};
use plasticity_core::optim::ElementMask;
use plasticity_core::{
    AttachContext, Forward, Hook, Method, MethodModules, MethodResult, Mode, OptimizerNeeds, PlasticModel, StepContext, TensorState, Units, host_values, param_infos, set_params, walk_params,
};
use plasticity_data::{SplitMix64, mix};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

const NAME: &str = "cbp";

/// Activations recorded during a training forward pass, by insertion point.
type Recorded = Arc<Mutex<BTreeMap<usize, Tensor<3>>>>;

struct Recorder(Recorded);

impl Hook for Recorder {
    fn observe(&self, point: usize, h: &Units) {
        if let Ok(mut seen) = self.0.lock() {
            seen.insert(point, h.values.clone().detach());
        }
    }
}

pub struct CbpMethod {
    config: CbpConfig,
    seed: u64,
    layouts: Vec<UnitLayout>,
    states: BTreeMap<String, UnitState>,
    recorded: Recorded,
    /// Steps seen (the random streams' index) and units replaced so far.
    steps: u64,
    replaced: u64,
}

impl CbpMethod {
    /// `seed`: the run's seed (new weights and random utilities are drawn from streams of it).
    pub fn new(config: CbpConfig, seed: u64) -> Self {
        Self {
            config,
            seed,
            layouts: Vec::new(),
            states: BTreeMap::new(),
            recorded: Recorded::default(),
            steps: 0,
            replaced: 0,
        }
    }

    /// The per-layer state (utilities, mean activations, ages, accumulators).
    pub fn states(&self) -> &BTreeMap<String, UnitState> {
        &self.states
    }

    /// Units replaced since the run started.
    pub fn replaced(&self) -> u64 {
        self.replaced
    }

    fn bound(&self, fan_in: usize) -> f64 {
        match self.config.init {
            InitBound::Default => (1.0 / fan_in as f64).sqrt(),
            InitBound::Kaiming => (6.0 / fan_in as f64).sqrt(),
        }
    }
}


impl<M: PlasticModel> Method<M> for CbpMethod {
    fn name(&self) -> String {
        NAME.into()
    }

    fn optimizer_needs(&self) -> OptimizerNeeds {
        OptimizerNeeds::PER_ELEMENT
    }

    fn attach(&mut self, model: M, _cx: &AttachContext) -> MethodResult<M> {
        self.config.validate().map_err(|(k, m)| format!("{k}: {m}"))?;
        self.layouts = unit_layouts(&param_infos(&model), &model.insertion_points(), self.config.layers.as_deref())?;
        if self.layouts.is_empty() {
            return Err("cbp: the model has no hidden layers (insertion points) to replace units in".into());
        }
        for l in &self.layouts {
            let state = self.states.entry(l.layer.clone()).or_insert_with(|| UnitState::new(l.units));
            if state.util.len() != l.units {
                return Err(format!("cbp: saved state has {} units for `{}`, the model {}", state.util.len(), l.layer, l.units).into());
            }
        }
        Ok(model)
    }

    /// Loading a checkpoint restores the parameter ids it was written with: the layouts (which
    /// hold ids, for the optimizer-state resets) are found again.
    fn loaded(&mut self, model: &M) -> MethodResult<()> {
        self.layouts = unit_layouts(&param_infos(model), &model.insertion_points(), self.config.layers.as_deref())?;
        Ok(())
    }

    fn hooks(&self, _model: &M, _modules: &MethodModules, forward: Forward) -> Vec<Box<dyn Hook>> {
        match forward.mode {
            Mode::Train => vec![Box::new(Recorder(self.recorded.clone()))],
            Mode::Eval => Vec::new(),
        }
    }

    fn after_step(&mut self, model: M, _modules: &mut MethodModules, cx: &mut StepContext) -> MethodResult<M> {
        let recorded = std::mem::take(&mut *self.recorded.lock().map_err(|_| "cbp: recorder poisoned")?);
        let mut weights: BTreeMap<String, Tensor<1>> = BTreeMap::new();
        let wanted: Vec<&str> = self.layouts.iter().flat_map(|l| [l.weight.0.as_str(), l.next.0.as_str()]).collect();
        walk_params(&model, true, |info, value| {
            if wanted.contains(&info.path.as_str())
                && let Some(w) = value.and_then(|v| v.flatten())
            {
                weights.insert(info.path.clone(), w.detach());
            }
        });
        let mut new_values = BTreeMap::new();
        let mut resets: Vec<(burn::module::ParamId, Vec<usize>, usize)> = Vec::new();
        for (l, layout) in self.layouts.iter().enumerate() {
            let Some(h) = recorded.get(&layout.point) else { continue };
            let [n, units, positions] = h.dims();
            let rows: Tensor<2> = h.clone().swap_dims(1, 2).reshape([n * positions, units]);
            let w_in = weights[&layout.weight.0].clone();
            let w_out = weights[&layout.next.0].clone();
            let mean_h = host_values(rows.clone().mean_dim(0).reshape([units]));
            let mean_abs = host_values(rows.clone().abs().mean_dim(0).reshape([units]));
            let in_mag = host_values(layout.incoming.magnitudes(w_in.clone(), units));
            let out_mag = host_values(layout.outgoing.magnitudes(w_out.clone(), units));
            let device = rows.device();
            let centered = |f_hat: &[f32]| {
                let f = Tensor::<1>::from_data(TensorData::new(f_hat.to_vec(), [units]), &device).reshape([1, units]);
                host_values((rows.clone() - f).abs().mean_dim(0).reshape([units]))
            };
            let stats = StepStats {
                mean_h: &mean_h,
                mean_abs: &mean_abs,
                out_mag: &out_mag,
                in_mag: &in_mag,
                centered: &centered,
            };
            let mut rng = SplitMix64::new(mix(mix(self.seed, self.steps), l as u64));
            let state = self.states.get_mut(&layout.layer).expect("a state per layout, made at attach");
            let replace = state.step(&stats, &self.config, &mut rng);
            if replace.is_empty() {
                continue;
            }
            self.replaced += replace.len() as u64;
            // Incoming: fresh draws; bias: 0; outgoing: 0.
            let b = self.bound(layout.incoming.fan_in());
            let mut w = host_values(w_in);
            let mut reset_in = Vec::new();
            for &i in &replace {
                for k in layout.incoming.indices(i) {
                    w[k] = ((2.0 * rng.next_f64() - 1.0) * b) as f32;
                    reset_in.push(k);
                }
            }
            let len = w.len();
            new_values.insert(layout.weight.0.clone(), Tensor::<1>::from_data(TensorData::new(w, [len]), &device));
            resets.push((layout.weight.1, reset_in, len));
            if let Some((path, id)) = &layout.bias {
                let mut bias = vec![false; units];
                replace.iter().for_each(|&i| bias[i] = true);
                let mask = Tensor::<1>::from_data(TensorData::new(bias.iter().map(|&r| f32::from(u8::from(!r))).collect::<Vec<_>>(), [units]), &device);
                let current = walk_value(&model, path).ok_or_else(|| format!("cbp: no bias `{path}`"))?;
                new_values.insert(path.clone(), current * mask);
                resets.push((*id, replace.clone(), units));
            }
            let mut out = host_values(w_out);
            let mut reset_out = Vec::new();
            for &i in &replace {
                for k in layout.outgoing.indices(i) {
                    out[k] = 0.0;
                    reset_out.push(k);
                }
            }
            let len = out.len();
            new_values.insert(layout.next.0.clone(), Tensor::<1>::from_data(TensorData::new(out, [len]), &device));
            resets.push((layout.next.1, reset_out, len));
        }
        self.steps += 1;
        if new_values.is_empty() {
            return Ok(model);
        }
        let model = set_params(model, new_values);
        if let Some(optimizer) = cx.optimizer.as_deref_mut() {
            for (id, indices, len) in resets {
                let mut mask = vec![false; len];
                indices.into_iter().for_each(|k| mask[k] = true);
                optimizer.reset_elements(id, &ElementMask::Host(mask));
            }
        }
        Ok(model)
    }

    fn state(&self) -> TensorState {
        let mut state = TensorState::new();
        let mut ages = serde_json::Map::new();
        let mut accumulated = serde_json::Map::new();
        for (layer, s) in &self.states {
            state.put_vec(format!("{layer}/util"), s.util.clone(), vec![s.util.len()]);
            state.put_vec(format!("{layer}/mean_act"), s.mean_act.clone(), vec![s.mean_act.len()]);
            ages.insert(layer.clone(), serde_json::json!(s.ages));
            accumulated.insert(layer.clone(), serde_json::json!(s.accumulated));
        }
        state.meta = serde_json::json!({ "steps": self.steps, "replaced": self.replaced, "ages": ages, "accumulated": accumulated });
        state
    }

    fn restore(&mut self, state: TensorState) -> MethodResult<()> {
        let meta = &state.meta;
        let bad = |what: &str| format!("{NAME}: saved state lacks {what}");
        self.steps = meta.get("steps").and_then(|v| v.as_u64()).ok_or_else(|| bad("`steps`"))?;
        self.replaced = meta.get("replaced").and_then(|v| v.as_u64()).unwrap_or(0);
        let ages = meta.get("ages").and_then(|v| v.as_object()).ok_or_else(|| bad("`ages`"))?;
        self.states.clear();
        for (layer, a) in ages {
            let ages: Vec<u64> = serde_json::from_value(a.clone()).map_err(|e| format!("{NAME}: saved ages of `{layer}`: {e}"))?;
            let util = state.get_vec(&format!("{layer}/util")).ok_or_else(|| bad(&format!("`{layer}/util`")))?;
            let mean_act = state.get_vec(&format!("{layer}/mean_act")).ok_or_else(|| bad(&format!("`{layer}/mean_act`")))?;
            let accumulated = meta["accumulated"].get(layer).and_then(|v| v.as_f64()).ok_or_else(|| bad(&format!("the accumulator of `{layer}`")))?;
            if util.len() != ages.len() || mean_act.len() != ages.len() {
                return Err(format!("{NAME}: saved state of `{layer}` has mismatched lengths").into());
            }
            self.states.insert(layer.clone(), UnitState { util, mean_act, ages, accumulated });
        }
        Ok(())
    }

    fn artifacts(
        &self,
        _model: &M,
        _modules: &MethodModules,
        _cx: &plasticity_core::ArtifactContext<M::Input>,
    ) -> MethodResult<Option<serde_json::Value>> {
        Ok(Some(serde_json::json!({ "steps": self.steps, "units_replaced": self.replaced })))
    }
}

/// The value of the parameter at `path`, flattened.
fn walk_value<M: PlasticModel>(model: &M, path: &str) -> Option<Tensor<1>> {
    let mut found = None;
    walk_params(model, true, |info, value| {
        if info.path == path {
            found = value.and_then(|v| v.flatten()).map(|t| t.detach());
        }
    });
    found
}
