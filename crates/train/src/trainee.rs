//! `Trainee<M>`: the module Burn's `Learner` trains. It wraps any [`PlasticModel`], carries the
//! optimizer-step count as recorded state (checkpoints save it, resume restores it), and
//! implements `TrainStep`/`InferenceStep`: cross-entropy loss plus penalties, per-epoch
//! accounting, a NaN/inf guard, global-norm clipping and per-step rules around the optimizer.

use crate::clip::clip_global_norm;
use crate::extension::Extensions;
use crate::history::History;
use burn::lr_scheduler::module_lr_scheduler::ModuleLearningRate;
use burn::module::{Module, Param};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Int, Tensor, TensorData};
use burn::train::{ClassificationOutput, InferenceStep, Interrupter, TrainOutput, TrainStep};
use plasticity_data::ClassBatch;
use plasticity_models::PlasticModel;
use plasticity_peft::GateSet;
use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

const UNKNOWN_STEP: u64 = u64::MAX;

/// Shared, non-recorded state of one run: options, accounting, the stop handle and extensions.
///
/// Not generic over the model: Burn's derive forbids a model type parameter in a skipped field,
/// so the extensions (typed by the model) are stored type-erased.
pub struct TrainContext {
    pub steps_per_epoch: usize,
    pub grad_clip_norm: Option<f32>,
    pub history: Mutex<History>,
    pub failure: Mutex<Option<String>>,
    pub interrupter: Interrupter,
    /// Seed of the device RNG during training: at the start of epoch e the device is reseeded
    /// with `mix(rng_seed, e)` (see `datasets::STREAM_TRAIN_RNG`).
    pub rng_seed: Option<u64>,
    /// LoRA dropout: training forwards go through its hook (`[peft] method = "lora"`, dropout > 0).
    pub lora_dropout: Option<plasticity_peft::LoraDropout>,
    /// TauGate's sharpness after a given number of optimizer steps (its annealing schedule).
    pub gate_sharpness: Option<Box<dyn Fn(u64) -> f64 + Send + Sync>>,
    /// An `Extensions<M>` for the trained model type.
    extensions: Arc<dyn Any + Send + Sync>,
    /// Mirror of the recorded step count, read from the module once (a host read) and then kept.
    step: AtomicU64,
}

impl std::fmt::Debug for TrainContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrainContext")
            .field("steps_per_epoch", &self.steps_per_epoch)
            .finish_non_exhaustive()
    }
}

impl TrainContext {
    pub fn new<M: 'static>(
        steps_per_epoch: usize,
        grad_clip_norm: Option<f32>,
        history: History,
        interrupter: Interrupter,
        extensions: Extensions<M>,
    ) -> Self {
        Self {
            steps_per_epoch: steps_per_epoch.max(1),
            grad_clip_norm,
            history: Mutex::new(history),
            failure: Mutex::new(None),
            interrupter,
            extensions: Arc::new(extensions),
            rng_seed: None,
            lora_dropout: None,
            gate_sharpness: None,
            step: AtomicU64::new(UNKNOWN_STEP),
        }
    }

    fn extensions<M: 'static>(&self) -> Option<&Extensions<M>> {
        self.extensions.downcast_ref::<Extensions<M>>()
    }

    pub fn failure(&self) -> Option<String> {
        self.failure.lock().ok().and_then(|f| f.clone())
    }

    fn fail(&self, message: String) {
        if let Ok(mut slot) = self.failure.lock()
            && slot.is_none()
        {
            *slot = Some(message.clone());
        }
        self.interrupter.stop(Some(&message));
    }
}

/// The module trained by Burn's `Learner`: the user's model, optional TauGate gates at its
/// insertion points, and the recorded step count.
#[derive(Module, Debug)]
pub struct Trainee<M: PlasticModel> {
    pub model: M,
    /// Activation gates (TauGate), trained beside the frozen model.
    pub gates: Option<GateSet>,
    /// Optimizer steps taken, `[1]`, not trainable.
    pub step: Param<Tensor<1>>,
    #[module(skip)]
    pub ctx: Arc<TrainContext>,
}

impl<M: PlasticModel> Trainee<M> {
    pub fn new(model: M, gates: Option<GateSet>, ctx: Arc<TrainContext>, device: &Device) -> Self {
        let step = Param::from_tensor(Tensor::<1>::zeros([1], device)).set_require_grad(false);
        Self {
            model,
            gates,
            step,
            ctx,
        }
    }

    /// `[batch, features] -> [batch, classes]`, through the gates when there are any.
    pub fn logits(&self, images: Tensor<2>) -> Tensor<2> {
        match &self.gates {
            Some(gates) => self.model.forward_hooked(images, gates),
            None => self.model.forward(images),
        }
    }

    /// Optimizer steps taken so far.
    pub fn steps(&self) -> u64 {
        let known = self.ctx.step.load(Ordering::Relaxed);
        if known != UNKNOWN_STEP {
            return known;
        }
        let value = self.step.val().into_scalar::<f32>() as u64;
        self.ctx.step.store(value, Ordering::Relaxed);
        value
    }

    fn set_steps(&mut self, steps: u64) {
        self.ctx.step.store(steps, Ordering::Relaxed);
        let device = self.step.val().device();
        let value = Tensor::<1>::from_data(TensorData::new(vec![steps as f32], [1]), &device);
        self.step = Param::initialized(self.step.id, value).set_require_grad(false);
    }

    /// 1-based epoch of the next training batch.
    fn epoch_of_step(&self, step: u64) -> usize {
        step as usize / self.ctx.steps_per_epoch + 1
    }
}

/// Mean cross-entropy and the logits' correct count, read back in one host transfer.
pub fn score(logits: Tensor<2>, targets: Tensor<1, Int>) -> (Tensor<1>, f64, u64) {
    let loss = CrossEntropyLossConfig::new()
        .init(&logits.device())
        .forward(logits.clone(), targets.clone());
    let correct = logits.argmax(1).squeeze_dim::<1>(1).equal(targets).int().sum().float();
    let both = Tensor::cat(vec![loss.clone().detach().reshape([1]), correct.reshape([1])], 0);
    let values = both
        .into_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .unwrap_or_else(|_| vec![f64::NAN, 0.0]);
    (loss, values[0], values[1].max(0.0) as u64)
}

impl<M: PlasticModel> TrainStep for Trainee<M> {
    type Input = ClassBatch;
    type Output = ClassificationOutput;

    fn step(&self, batch: ClassBatch) -> TrainOutput<ClassificationOutput> {
        let step = self.steps();
        let epoch = self.epoch_of_step(step);
        let examples = batch.targets.dims()[0] as u64;
        if (step as usize).is_multiple_of(self.ctx.steps_per_epoch) {
            if let Some(seed) = self.ctx.rng_seed {
                batch.images.device().seed(plasticity_data::mix(seed, epoch as u64));
            }
            if let Ok(mut h) = self.ctx.history.lock() {
                h.start_train(epoch);
            }
        }
        let logits = match (&self.gates, &self.ctx.lora_dropout) {
            (None, Some(dropout)) => self.model.forward_hooked(batch.images, &dropout.hook(&self.model)),
            _ => self.logits(batch.images),
        };
        let (loss, loss_value, correct) = score(logits.clone(), batch.targets.clone());
        if !loss_value.is_finite() {
            let batch_in_epoch = step as usize % self.ctx.steps_per_epoch + 1;
            self.ctx.fail(format!(
                "training stopped: the loss is {loss_value} at step {} (epoch {epoch}, batch {batch_in_epoch}); \
                 lower optimizer.lr or set optimizer.grad_clip_norm",
                step + 1
            ));
        } else if let Ok(mut h) = self.ctx.history.lock() {
            h.add_train(epoch, loss_value, correct, examples, 0.0);
        }
        let penalties = self.ctx.extensions::<M>().map_or(&[][..], |e| &e.penalties[..]);
        let mut total = loss.clone();
        for penalty in penalties {
            total = total + penalty.penalty(&self.model);
        }
        if !penalties.is_empty() && loss_value.is_finite() {
            let with_penalties = total.clone().into_scalar::<f64>();
            if !with_penalties.is_finite() {
                self.ctx.fail(format!(
                    "training stopped: the loss with penalties is {with_penalties} at step {} (epoch {epoch})",
                    step + 1
                ));
            }
        }
        TrainOutput::new(
            self,
            total.backward(),
            ClassificationOutput::new(loss, logits, batch.targets),
        )
    }

    fn optimize(mut self, optim: &mut ModuleOptimizer, lr: ModuleLearningRate, grads: GradientsParams) -> Self {
        if self.ctx.failure().is_some() {
            return self; // never apply a NaN update
        }
        let step = self.steps();
        let grads = match self.ctx.grad_clip_norm {
            Some(max_norm) => clip_global_norm(&self, grads, max_norm),
            None => grads,
        };
        let ctx = self.ctx.clone();
        let rules = ctx.extensions::<M>().map_or(&[][..], |e| &e.rules[..]);
        for rule in rules {
            rule.before_step(&self.model, &grads, step);
        }
        self = optim.step(lr, self, grads);
        self.set_steps(step + 1);
        if let Some(schedule) = &ctx.gate_sharpness
            && let Some(gates) = self.gates.take()
        {
            self.gates = Some(gates.with_sharpness(schedule(step + 1)));
        }
        for rule in rules {
            self.model = rule.after_step(self.model, step);
        }
        self
    }
}

impl<M: PlasticModel> InferenceStep for Trainee<M> {
    type Input = ClassBatch;
    type Output = ClassificationOutput;

    fn step(&self, batch: ClassBatch) -> ClassificationOutput {
        // Validation follows the epoch just trained.
        let epoch = (self.steps() as usize).div_ceil(self.ctx.steps_per_epoch).max(1);
        let examples = batch.targets.dims()[0] as u64;
        let logits = self.logits(batch.images);
        let (loss, loss_value, correct) = score(logits.clone(), batch.targets.clone());
        if let Ok(mut h) = self.ctx.history.lock() {
            h.add_valid(epoch, loss_value, correct, examples);
        }
        ClassificationOutput::new(loss, logits, batch.targets)
    }
}
