//! Training one task is a function: [`train_task`] takes the [`TrainState`] (model, method
//! modules, methods, optimizer, schedule, step count, history) and the task's data, and
//! returns them trained. What happens at the end of each epoch (checkpoints, stopping) is the
//! caller's [`EpochEnd`], so a single run and a continual stream (one call per task, resuming
//! inside any task) share this loop.
//!
//! **Why not Burn's `SupervisedTraining`.** It writes checkpoints on its own threads
//! (`AsyncCheckpointer`) from its own records, while methods keep state outside Burn's module
//! and optimizer records (masks, Fisher matrices, our optimizers' moments): a checkpoint must
//! be taken at one consistent point, synchronously, with all of them. It also runs one task per
//! `launch`, and drives the update through `ModuleOptimizer`, whose state is private. The loop
//! below keeps Burn's order of operations (forward and backward, `lr_step`, optimizer step; then
//! validation on the model's `valid()` copy), so a run with Burn's optimizers gives the same
//! numbers it gave under `SupervisedTraining`.

use crate::clip::clip_global_norm;
use crate::error::{Result, TrainError};
use crate::history::History;
use crate::trainee::{Methods, Trainee};
use burn::lr_scheduler::module_lr_scheduler::ModuleLrScheduler;
use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use burn::data::dataloader::DataLoader;
use plasticity_core::optim::Optimizer;
use plasticity_core::{Batch, Forward, Mode, PlasticModel, StepContext, TaskContext, TaskData, score};
use plasticity_data::{EpochShuffleLoader, SequentialLoader, mix};

/// Everything a run carries from one step, epoch or task to the next.
pub struct TrainState<M: PlasticModel> {
    pub trainee: Trainee<M>,
    pub methods: Methods<M>,
    pub optimizer: Optimizer,
    pub schedule: ModuleLrScheduler,
    /// Optimizer steps taken, over all tasks.
    pub step: u64,
    pub history: History,
}

/// How one task trains.
#[derive(Clone, Debug)]
pub struct TaskSpec {
    /// 0-based index of the task in its stream.
    pub index: usize,
    pub epochs: usize,
    /// First epoch to train: 1, or the one after a resumed checkpoint.
    pub first_epoch: usize,
    pub batch_size: usize,
    pub eval_batch_size: usize,
    pub grad_clip_norm: Option<f32>,
    /// Epoch `e` visits the training set in the order `permutation(n, mix(shuffle_seed, e))`.
    pub shuffle_seed: u64,
    /// At the start of epoch `e` the device RNG is reseeded with `mix(rng_seed, e)` (dropout,
    /// new adapter blocks), so a resumed run draws what an uninterrupted one would.
    pub rng_seed: u64,
    /// Task-incremental learning: only these classes' logits take part in the loss and the
    /// prediction (the others are pushed to −1e9); `None`: every logit.
    pub logit_mask: Option<Vec<usize>>,
}

/// `logits` `[batch, classes]` with the classes outside `allowed` pushed to −1e9, so that they
/// take no part in the softmax or the prediction.
pub fn mask_logits(logits: Tensor<2>, allowed: Option<&[usize]>) -> Tensor<2> {
    let Some(allowed) = allowed else { return logits };
    let classes = logits.dims()[1];
    let bias: Vec<f32> = (0..classes).map(|c| if allowed.contains(&c) { 0.0 } else { -1e9 }).collect();
    let bias = Tensor::<1>::from_data(TensorData::new(bias, [classes]), &logits.device());
    logits + bias.unsqueeze_dim(0)
}

impl TaskSpec {
    pub fn steps_per_epoch(&self, train_len: usize) -> usize {
        train_len.div_ceil(self.batch_size.max(1))
    }
}

/// Whether training goes on after an epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// Stop the task (early stopping): it counts as finished.
    Finish(String),
    /// Stop the run (Ctrl-C): the task resumes from its last checkpoint.
    Interrupt(String),
}

/// Called after every epoch, once its validation is done: write the checkpoint, report, decide.
pub trait EpochEnd<M: PlasticModel> {
    fn epoch_end(&mut self, epoch: usize, state: &TrainState<M>) -> Result<Flow>;
    /// Checked between batches: a second Ctrl-C stops at once, without a checkpoint.
    fn abort(&self) -> Option<String> {
        None
    }
    /// After every optimizer step (`state.step` counts it): a stream's diagnostics every K steps.
    fn step_end(&mut self, _state: &TrainState<M>) -> Result<()> {
        Ok(())
    }
}

/// How a task ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskEnd {
    /// Every epoch ran.
    Completed,
    /// Early stopping ended it (the reason).
    Finished(String),
    /// Ctrl-C stopped it after a checkpoint, or at once (the reason); resume continues it.
    Interrupted(String),
}

/// Trains `state` on `data` for the epochs of `spec`, calling `end` after each one. `device`
/// is the training device (with autodiff); validation runs on its inner device.
pub fn train_task<M: PlasticModel>(
    mut state: TrainState<M>,
    data: &TaskData<M::Input>,
    spec: &TaskSpec,
    device: &Device,
    end: &mut dyn EpochEnd<M>,
) -> Result<(TrainState<M>, TaskEnd)> {
    let task = TaskContext {
        index: spec.index,
        data,
        device,
        batch_size: spec.batch_size,
    };
    if spec.first_epoch == 1 {
        let model = state.trainee.model;
        state.trainee.model = state.methods.fold_model(model, |m, model| m.task_start(model, &task))?;
    }
    let loader = EpochShuffleLoader::new(
        data.train.clone(),
        spec.batch_size,
        spec.shuffle_seed,
        spec.first_epoch,
        device.clone(),
    )?;
    for epoch in spec.first_epoch..=spec.epochs {
        device.seed(mix(spec.rng_seed, epoch as u64));
        state.history.start_train(epoch);
        for (i, batch) in loader.iter().enumerate() {
            if let Some(reason) = end.abort() {
                return Ok((state, TaskEnd::Interrupted(reason)));
            }
            let batch = batch.map_err(|e| TrainError::Run(format!("training data: {e}")))?;
            state = train_step(state, batch, spec, epoch, i + 1)?;
            end.step_end(&state)?;
        }
        validate(&mut state, data, spec, epoch, device)?;
        match end.epoch_end(epoch, &state)? {
            Flow::Continue => {}
            Flow::Finish(reason) => return finish(state, &task, TaskEnd::Finished(reason)),
            Flow::Interrupt(reason) => return Ok((state, TaskEnd::Interrupted(reason))),
        }
    }
    finish(state, &task, TaskEnd::Completed)
}

fn finish<M: PlasticModel>(
    mut state: TrainState<M>,
    task: &TaskContext<M::Input>,
    how: TaskEnd,
) -> Result<(TrainState<M>, TaskEnd)> {
    let (model, modules) = (&state.trainee.model, &state.trainee.modules);
    state.methods.try_each(|m| m.task_end(model, modules, task))?;
    Ok((state, how))
}

/// One optimizer step on `batch` (what [`train_task`] runs per batch): forward with every
/// method's hooks, loss plus penalties, backward, global-norm clipping, the methods' rules
/// around the update. `epoch` and `batch_in_epoch` name the step in errors.
pub fn train_step<M: PlasticModel>(
    state: TrainState<M>,
    batch: Batch<M::Input>,
    spec: &TaskSpec,
    epoch: usize,
    batch_in_epoch: usize,
) -> Result<TrainState<M>> {
    let TrainState {
        trainee,
        mut methods,
        mut optimizer,
        mut schedule,
        step,
        mut history,
    } = state;
    let examples = batch.len() as u64;
    let forward = Forward { mode: Mode::Train, step };
    let logits = mask_logits(methods.forward(&trainee, batch.input, forward), spec.logit_mask.as_deref());
    let (loss, loss_value, correct) = score(logits, batch.targets);
    let nan = |what: &str, value: f64| {
        TrainError::Run(format!(
            "training stopped: the {what} is {value} at step {} (epoch {epoch}, batch {batch_in_epoch}); lower \
             optimizer.lr or set optimizer.grad_clip_norm",
            step + 1
        ))
    };
    if !loss_value.is_finite() {
        return Err(nan("loss", loss_value));
    }
    let total = match methods.penalty(&trainee) {
        None => loss,
        Some(penalty) => {
            let total = loss + penalty;
            let value = total.clone().into_scalar::<f64>();
            if !value.is_finite() {
                return Err(nan("loss with penalties", value));
            }
            total
        }
    };
    // The loss goes out of scope with the backward pass, so that nothing of the graph still
    // holds the parameters when the optimizer updates them in place.
    let mut grads = GradientsParams::from_grads(total.backward(), &trainee);
    drop(total);
    if let Some(max_norm) = spec.grad_clip_norm {
        grads = clip_global_norm(&trainee, grads, max_norm);
    }
    let lr = schedule.step().base();
    history.add_train(epoch, loss_value, correct, examples, lr);
    fn context(optimizer: &mut Optimizer, step: u64, lr: f64, epoch: usize) -> StepContext<'_> {
        StepContext {
            step,
            lr,
            epoch,
            optimizer: optimizer.state_mut(),
        }
    }
    let model = &trainee.model;
    let mut cx = context(&mut optimizer, step, lr, epoch);
    methods.try_each(|m| m.before_step(model, &mut grads, &mut cx))?;
    let Trainee { model, mut modules } = optimizer.step(lr, trainee, grads);
    let mut cx = context(&mut optimizer, step, lr, epoch);
    let model = methods.fold_model(model, |m, model| m.after_step(model, &mut modules, &mut cx))?;
    Ok(TrainState {
        trainee: Trainee { model, modules },
        methods,
        optimizer,
        schedule,
        step: step + 1,
        history,
    })
}

/// Validation of the epoch just trained, into the history.
fn validate<M: PlasticModel>(
    state: &mut TrainState<M>,
    data: &TaskData<M::Input>,
    spec: &TaskSpec,
    epoch: usize,
    device: &Device,
) -> Result<()> {
    let loader = SequentialLoader::new(data.valid.clone(), spec.eval_batch_size, device.clone().inner())?;
    let model = state.trainee.valid();
    let forward = Forward {
        mode: Mode::Eval,
        step: state.step,
    };
    for batch in loader.iter() {
        let batch = batch.map_err(|e| TrainError::Run(format!("validation data: {e}")))?;
        let n = batch.len() as u64;
        let logits = mask_logits(state.methods.forward(&model, batch.input, forward), spec.logit_mask.as_deref());
        let (_, loss, correct) = score(logits, batch.targets);
        state.history.add_valid(epoch, loss, correct, n);
    }
    Ok(())
}
