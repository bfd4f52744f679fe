//! The method trait: everything a training method does, at fixed points the runner calls
//! without knowing the method (after PyTorch Lightning's callbacks and optax's transformations:
//! named hooks at fixed points, and state that every checkpoint carries).
//!
//! One run, as the runner calls a method (every function has a default that does nothing):
//!
//! 1. [`restore`](Method::restore) — only when resuming or loading a finished run: the state
//!    saved with that checkpoint;
//! 2. [`attach`](Method::attach) — reparameterize, freeze, check targets (rebuilding the shapes
//!    the restored state names, e.g. TriAdaptLoRA's grown ranks);
//! 3. [`module`](Method::module) — a trainable module kept beside the model (TauGate's gates);
//!    then, when a checkpoint or finished run was loaded into the model,
//!    [`loaded`](Method::loaded);
//! 4. per task: [`task_start`](Method::task_start), then per optimizer step:
//!    [`hooks`](Method::hooks) for the forward pass, [`penalty`](Method::penalty) added to the
//!    loss, [`before_step`](Method::before_step) with the gradients,
//!    the update, [`after_step`](Method::after_step) with the optimizer's state; then
//!    [`task_end`](Method::task_end) with the task's data;
//! 5. with every checkpoint, [`state`](Method::state);
//! 6. after training, [`artifacts`](Method::artifacts) (files and a section of results.json).
//!
//! Methods run in the order the run lists them: built-in ones in config order (`[peft]`,
//! then the others), then the user's own.

use crate::optim::OptimizerState;
use crate::{Examples, Hook, Input, MethodModules, ParamInfo, PlasticModel, TaskData, TensorState};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};
use std::path::Path;

pub use crate::module::DynModule;

/// An error a method reports; the runner adds the method's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodError(pub String);

impl std::fmt::Display for MethodError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MethodError {}

impl From<String> for MethodError {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<&str> for MethodError {
    fn from(s: &str) -> Self {
        Self(s.to_string())
    }
}

pub type MethodResult<T> = Result<T, MethodError>;

/// What the runner tells [`Method::attach`].
pub struct AttachContext<'a> {
    /// The device of the run (with autodiff when training).
    pub device: &'a Device,
    /// Optimizer steps the run will take in all (TriAdaptLoRA's schedule length).
    pub total_steps: usize,
    /// The finished run being loaded (`eval`, `merge`, `export`), if any: for files a method
    /// wrote there before this version kept them in its state.
    pub run_dir: Option<&'a Path>,
}

/// Training or evaluation forward pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Train,
    Eval,
}

/// What the runner tells [`Method::hooks`].
#[derive(Clone, Copy, Debug)]
pub struct Forward {
    pub mode: Mode,
    /// Optimizer steps taken so far.
    pub step: u64,
}

/// What the runner tells the step rules.
pub struct StepContext<'a> {
    /// Optimizer steps taken before this one (0 at the first step).
    pub step: u64,
    /// The learning rate of this step.
    pub lr: f64,
    /// 1-based epoch of this step, within the task.
    pub epoch: usize,
    /// The optimizer's per-element state; `None` with Burn's optimizers
    /// (`[optimizer] implementation = "burn"`).
    pub optimizer: Option<&'a mut OptimizerState>,
}

/// A task's data and index, for [`Method::task_start`] and [`Method::task_end`].
pub struct TaskContext<'a, I: Input> {
    /// 0-based index of the task in its stream (0 for a single-task run).
    pub index: usize,
    pub data: &'a TaskData<I>,
    /// The training device (with autodiff).
    pub device: &'a Device,
    /// Batch size for passes over the data.
    pub batch_size: usize,
}

/// Where and on what a method writes its artifacts after training.
pub struct ArtifactContext<'a, I: Input> {
    /// The run directory.
    pub dir: &'a Path,
    /// The test set, when the run evaluates on it.
    pub test: Option<&'a Examples<I>>,
    /// Inference device (no autodiff).
    pub device: &'a Device,
    pub eval_batch_size: usize,
    /// Optimizer steps taken.
    pub steps: u64,
}

/// What a method needs of the optimizer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OptimizerNeeds {
    /// Its rules read or change the optimizer's state: Burn's optimizers are refused.
    pub state: bool,
    /// Adam keeps a step count per element (continual backprop's AdamGnT).
    pub per_element_steps: bool,
}

impl OptimizerNeeds {
    /// Reachable state with Adam's step kept per element: a method that resets chosen elements
    /// (continual backprop's replaced units, pruning's masks) so they start afresh.
    pub const PER_ELEMENT: Self = Self {
        state: true,
        per_element_steps: true,
    };
}

/// Files a method wrote for `plasticity export`.
#[derive(Clone, Debug, Default)]
pub struct Export {
    pub written: Vec<std::path::PathBuf>,
    /// Parameters (paths of stored weights) whose effective value, the reparameterization
    /// applied, goes into `base.safetensors`: those of a method PyTorch does not run from our
    /// files (IA3 and TriAdaptLoRA, which peft cannot load; weight normalization and the
    /// compander, whose functions are baked). Every other reparameterized weight keeps its
    /// stored value there: the base peft puts an exported adapter on.
    pub bake: Vec<String>,
}

/// A training method. Implement it in a folder of a method crate (or in your own crate and
/// pass it to the library's run function); see `docs/extending.md`.
pub trait Method<M: PlasticModel>: Send {
    /// Short name: keys its state in checkpoints, its module's parameter paths
    /// (`modules.<name>.…`), its section of results.json and its error messages.
    fn name(&self) -> String;

    /// What the method needs of the optimizer.
    fn optimizer_needs(&self) -> OptimizerNeeds {
        OptimizerNeeds::default()
    }

    /// Takes back the state saved with a checkpoint or a finished run, before `attach`.
    fn restore(&mut self, _state: TensorState) -> MethodResult<()> {
        Ok(())
    }

    /// Adapts the model: reparameterizes and freezes parameters, checks targets.
    fn attach(&mut self, model: M, _cx: &AttachContext) -> MethodResult<M> {
        Ok(model)
    }

    /// Called after the model's values were loaded from a checkpoint (`--resume`) or a finished
    /// run. Loading restores the parameter ids the record was written with (Burn keeps them
    /// for optimizer state), so a method that keeps `ParamId`s from `attach` looks them up
    /// again here; one that keys by parameter path needs nothing.
    fn loaded(&mut self, _model: &M) -> MethodResult<()> {
        Ok(())
    }

    /// A trainable module kept beside the model, created once after `attach`. The optimizer
    /// steps it and checkpoints record it; `hooks` and the rules find it in
    /// [`MethodModules`] under [`name`](Self::name).
    fn module(&mut self, _model: &M, _device: &Device) -> MethodResult<Option<Box<dyn DynModule>>> {
        Ok(None)
    }

    /// File name of the module in a finished run directory (default `<name>.bpk`).
    fn module_file(&self) -> String {
        format!("{}.bpk", self.name())
    }

    /// Hooks for one forward pass (composed with other methods' hooks; see
    /// [`Hooks`](crate::Hooks)).
    fn hooks(&self, _model: &M, _modules: &MethodModules, _forward: Forward) -> Vec<Box<dyn Hook>> {
        Vec::new()
    }

    /// A scalar `[1]` added to the training loss, differentiable in the model's parameters.
    fn penalty(&self, _model: &M, _modules: &MethodModules) -> Option<Tensor<1>> {
        None
    }

    /// Runs before the optimizer step, with the step's gradients (after clipping); may change
    /// them.
    fn before_step(
        &mut self,
        _model: &M,
        _grads: &mut GradientsParams,
        _cx: &mut StepContext,
    ) -> MethodResult<()> {
        Ok(())
    }

    /// Runs after the optimizer step, in the same optimize call (before any checkpoint): may
    /// change the model, the method modules and the optimizer's state.
    fn after_step(&mut self, model: M, _modules: &mut MethodModules, _cx: &mut StepContext) -> MethodResult<M> {
        Ok(model)
    }

    /// State saved with every checkpoint and with the finished run (tensors as burnpack, small
    /// metadata as JSON), handed back to [`restore`](Self::restore) on `--resume`.
    fn state(&self) -> TensorState {
        TensorState::default()
    }

    /// Called before training on a task (not when a run resumes inside the task), with the
    /// task's data; may change the model (weight normalization's data-dependent init).
    fn task_start(&mut self, model: M, _task: &TaskContext<M::Input>) -> MethodResult<M> {
        Ok(model)
    }

    /// Called after training on a task, with that task's data (EWC's Fisher, CLASSP's phase).
    fn task_end(&mut self, _model: &M, _modules: &MethodModules, _task: &TaskContext<M::Input>) -> MethodResult<()> {
        Ok(())
    }

    /// Writes files after training (adapters, masks, reports) and returns this method's
    /// section of results.json, if any.
    fn artifacts(
        &self,
        _model: &M,
        _modules: &MethodModules,
        _cx: &ArtifactContext<M::Input>,
    ) -> MethodResult<Option<serde_json::Value>> {
        Ok(None)
    }

    /// Writes the method's files for PyTorch into `out` (`plasticity export`).
    fn export(&self, _model: &M, _out: &Path) -> MethodResult<Export> {
        Ok(Export::default())
    }

    /// The parameter-census role of `param` (`adapter`, `gain`, …), when the method owns it;
    /// `None` leaves the default (`base`, `adapter` inside a reparameterization, the method's
    /// name for its module).
    fn role(&self, _param: &ParamInfo) -> Option<String> {
        None
    }

    /// Whether `param` is stepped without weight decay.
    fn no_decay(&self, _param: &ParamInfo) -> bool {
        false
    }
}
