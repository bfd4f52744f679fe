//! `HalfMask`: a training method written outside plasticity's method crates, against the Method
//! API alone (`plasticity_core::Method`). It is the worked example of `docs/extending.md`, and
//! the crate's tests check that the runner gives a method everything it promises, with no edit
//! to `plasticity-train`:
//!
//! - a loss penalty: `λ·‖W‖²` on the masked weight;
//! - an activation observer: a hook at insertion point 0 that sees the activation after the
//!   other methods' hooks (TauGate's gates, in the tests);
//! - a rule after every optimizer step that keeps half of a weight at zero (a checkerboard) and
//!   zeroes exactly those elements of the optimizer's state (Adam's moments and per-element
//!   step);
//! - tensor state in every checkpoint: a running mean of the observed activation per unit;
//! - a task-end callback that reads the task's data;
//! - an artifact, `half-mask.json`, and a section of `results.json`.

use burn::module::{ModuleMapper, Param, ParamId};
use burn::tensor::{Bool, Tensor, TensorData};
use plasticity_core::optim::ElementMask;
use plasticity_core::{
    ArtifactContext, AttachContext, Forward, Hook, Method, MethodModules, MethodResult, Mode, OptimizerNeeds,
    ParamInfo, PlasticModel, StepContext, TaskContext, TensorState, Units, param_infos, walk_params,
};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// What the tests read back from a run.
#[derive(Clone, Debug, Default)]
pub struct Record {
    pub penalty_calls: usize,
    /// Observations of insertion point 0 taken in training forward passes.
    pub observations: usize,
    /// The masked weight's optimizer state after 10 steps, by buffer name.
    pub state_after_10: Option<BTreeMap<String, Vec<f32>>>,
    /// The checkerboard: true where the weight is kept at zero, row-major.
    pub mask: Vec<bool>,
    /// What `task_end` read: the training examples and their count per class.
    pub task_examples: Option<usize>,
    pub class_counts: Vec<usize>,
}

/// The method. `target` is the path of a 2-D weight (`hidden.0.weight`).
pub struct HalfMask {
    pub target: String,
    /// λ of the penalty `λ·‖W‖²`.
    pub lambda: f64,
    pub record: Arc<Mutex<Record>>,
    id: Option<ParamId>,
    mask: Option<Tensor<2, Bool>>,
    /// Tensor state: an exponential moving average (decay 0.9) of the mean activation per unit
    /// at insertion point 0.
    running: Vec<f32>,
    steps: u64,
    /// The observer's latest reading, `[units]`.
    observed: Arc<Mutex<Option<Vec<f32>>>>,
}

/// The name keying the method's state, module paths and report section.
pub const NAME: &str = "half-mask";

impl HalfMask {
    pub fn new(target: &str, lambda: f64) -> Self {
        Self {
            target: target.into(),
            lambda,
            record: Arc::default(),
            id: None,
            mask: None,
            running: Vec::new(),
            steps: 0,
            observed: Arc::default(),
        }
    }

    /// The target parameter of `model`, by path.
    fn find<M: PlasticModel>(&self, model: &M) -> MethodResult<ParamInfo> {
        let params = param_infos(model);
        params.iter().find(|p| p.path == self.target).cloned().ok_or_else(|| {
            let paths: Vec<&str> = params.iter().map(|p| p.path.as_str()).collect();
            format!("{NAME}: no parameter `{}`; the model has {paths:?}", self.target).into()
        })
    }

    /// The observer hook on its own (the tests compose it with TauGate's gates by hand too).
    pub fn observer(&self) -> Observer {
        Observer(self.observed.clone())
    }

    /// The last observation, if any.
    pub fn last_observation(&self) -> Option<Vec<f32>> {
        self.observed.lock().ok()?.clone()
    }
}

/// Records the mean activation per unit at insertion point 0: `h: [n, units, positions]`.
pub struct Observer(Arc<Mutex<Option<Vec<f32>>>>);

impl Hook for Observer {
    fn observe(&self, point: usize, h: &Units) {
        if point != 0 {
            return;
        }
        let [n, units, positions] = h.values.dims();
        let mean: Tensor<1> = h.values.clone().detach().sum_dim(2).sum_dim(0).reshape([units]).div_scalar((n * positions) as f64);
        if let (Ok(values), Ok(mut slot)) = (mean.into_data().convert::<f32>().try_into_vec::<f32>(), self.0.lock()) {
            *slot = Some(values);
        }
    }
}

/// Sets the masked elements of one parameter to zero, keeping it a trainable leaf.
struct ApplyMask<'a> {
    id: ParamId,
    mask: &'a Tensor<2, Bool>,
}

impl ModuleMapper for ApplyMask<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        if param.id != self.id {
            return param;
        }
        let (id, tensor, mapper) = param.consume();
        let trainable = tensor.is_require_grad();
        let mask: Tensor<D, Bool> = self.mask.clone().to_device(&tensor.device()).reshape(tensor.dims());
        let masked = tensor.mask_fill(mask, 0.0).detach().set_require_grad(trainable);
        Param::from_mapped_value(id, masked, mapper)
    }
}

impl<M: PlasticModel> Method<M> for HalfMask {
    fn name(&self) -> String {
        NAME.into()
    }

    fn optimizer_needs(&self) -> OptimizerNeeds {
        OptimizerNeeds::PER_ELEMENT
    }

    fn restore(&mut self, state: TensorState) -> MethodResult<()> {
        self.running = state.get_vec("running").unwrap_or_default();
        self.steps = state.meta.get("steps").and_then(|s| s.as_u64()).unwrap_or(0);
        Ok(())
    }

    fn attach(&mut self, model: M, cx: &AttachContext) -> MethodResult<M> {
        let target = self.find(&model)?;
        let [rows, cols] = target.shape[..] else {
            return Err(format!("{NAME}: `{}` has shape {:?}, expected a matrix", self.target, target.shape).into());
        };
        let mask: Vec<bool> = (0..rows * cols).map(|k| (k / cols + k % cols) % 2 == 1).collect();
        self.id = Some(target.id);
        self.mask = Some(Tensor::from_data(TensorData::new(mask.clone(), [rows, cols]), cx.device));
        if let Ok(mut record) = self.record.lock() {
            record.mask = mask;
        }
        Ok(model)
    }

    /// A loaded checkpoint brings its own parameter ids: find the target again.
    fn loaded(&mut self, model: &M) -> MethodResult<()> {
        self.id = Some(self.find(model)?.id);
        Ok(())
    }

    fn hooks(&self, _model: &M, _modules: &MethodModules, forward: Forward) -> Vec<Box<dyn Hook>> {
        match forward.mode {
            Mode::Train => vec![Box::new(self.observer())],
            Mode::Eval => Vec::new(),
        }
    }

    fn penalty(&self, model: &M, _modules: &MethodModules) -> Option<Tensor<1>> {
        let mut weight = None;
        walk_params(model, true, |info, value| {
            if Some(info.id) == self.id {
                weight = value.and_then(|v| v.matrix());
            }
        });
        if let Ok(mut record) = self.record.lock() {
            record.penalty_calls += 1;
        }
        weight.map(|w| w.powi_scalar(2).sum().mul_scalar(self.lambda))
    }

    fn after_step(&mut self, model: M, _modules: &mut MethodModules, cx: &mut StepContext) -> MethodResult<M> {
        let (Some(id), Some(mask)) = (self.id, &self.mask) else {
            return Ok(model);
        };
        let model = model.map(&mut ApplyMask { id, mask });
        let optimizer = cx.optimizer.as_mut().ok_or(format!("{NAME}: needs plasticity's optimizers"))?;
        optimizer.reset_elements(id, &ElementMask::of(mask.clone()));
        if let Some(observed) = self.observed.lock().ok().and_then(|mut o| o.take()) {
            if self.running.len() != observed.len() {
                self.running = vec![0.0; observed.len()];
            }
            for (r, o) in self.running.iter_mut().zip(observed) {
                *r = 0.9 * *r + 0.1 * o;
            }
            if let Ok(mut record) = self.record.lock() {
                record.observations += 1;
            }
        }
        self.steps += 1;
        if cx.step + 1 == 10
            && let Some(state) = optimizer.get(id)
            && let Ok(mut record) = self.record.lock()
        {
            let buffers = state.buffers.iter().map(|(k, b)| (k.clone(), b.values())).collect();
            record.state_after_10 = Some(buffers);
        }
        Ok(model)
    }

    fn state(&self) -> TensorState {
        let mut state = TensorState::new();
        state.put_vec("running", self.running.clone(), vec![self.running.len()]);
        state.meta = serde_json::json!({"steps": self.steps});
        state
    }

    fn task_end(&mut self, _model: &M, _modules: &MethodModules, task: &TaskContext<M::Input>) -> MethodResult<()> {
        let train = &task.data.train;
        let mut counts = vec![0; train.num_classes()];
        for i in 0..train.len() {
            counts[train.label(i)] += 1;
        }
        if let Ok(mut record) = self.record.lock() {
            record.task_examples = Some(train.len());
            record.class_counts = counts;
        }
        Ok(())
    }

    fn artifacts(&self, _model: &M, _modules: &MethodModules, cx: &ArtifactContext<M::Input>) -> MethodResult<Option<serde_json::Value>> {
        let record = self.record.lock().map_err(|e| e.to_string())?.clone();
        let report = serde_json::json!({
            "steps": self.steps,
            "running": self.running,
            "running_bits": self.running.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            "task_examples": record.task_examples,
            "class_counts": record.class_counts,
        });
        let path = cx.dir.join("half-mask.json");
        let text = serde_json::to_vec_pretty(&report).map_err(|e| e.to_string())?;
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Some(serde_json::json!({"steps": self.steps})))
    }
}
