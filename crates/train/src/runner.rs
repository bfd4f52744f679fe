//! One training run in its run directory: config → data → model → methods → [`train_task`] →
//! checkpoints, final files, `results.json`. Nothing here names a method: methods come from
//! the config's tables ([`RunConfig::methods`]) and from the caller ([`Extensions`]).

use crate::artifacts::{load_model_file, save_final};
use crate::checkpoint::{Checkpoint, checkpoint_epochs, delete_checkpoint, latest_intact, write_checkpoint};
use crate::config::RunConfig;
use crate::datasets::{STREAM_SHUFFLE, STREAM_TRAIN_RNG, load_raw, prepare};
use crate::device::{DeviceChoice, parse_device};
use crate::error::{Result, TrainError};
use crate::history::History;
use crate::optim::{build_optimizer, build_schedule};
use crate::params::{Parameters, census};
use crate::report::{Results, write_report};
use crate::stopper::{Stop, StopRules, StopSignal, stop_reason};
use crate::task::{EpochEnd, Flow, TaskEnd, TaskSpec, TrainState, train_task};
use crate::trainee::{Methods, method_error};
use burn::module::{Module, ParamId};
use burn::tensor::{Device, Tensor};
use plasticity_core::optim::Optimizer;
use plasticity_core::{Tokens, 
    ArtifactContext, AttachContext, Evaluation, Forward, Method, Mode, PlasticModel, TaskData, evaluate, param_infos,
};
use plasticity_data::mix;
use plasticity_models::WithModel;
use crate::inputs::RunInput;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How a run is launched (not part of the config: these do not change its numbers).
#[derive(Clone, Default)]
pub struct RunOptions {
    /// Continue from the last intact checkpoint in the run directory.
    pub resume: bool,
    /// Ctrl-C handle: first press stops after the epoch's checkpoint, second press at once.
    pub signal: StopSignal,
    /// No per-epoch lines on stdout (they still go to the log).
    pub quiet: bool,
}

/// What a finished run returns (also written as `results.json`).
pub struct RunSummary {
    pub dir: PathBuf,
    pub results: Results,
}

/// What a caller adds to a run beyond its config: methods of its own (run after the config's),
/// and optionally an optimizer that replaces `[optimizer]` (the LR schedule still comes from
/// the config).
pub struct Extensions<M: PlasticModel> {
    pub methods: Vec<Box<dyn Method<M>>>,
    pub optimizer: Option<Optimizer>,
}

impl<M: PlasticModel> Default for Extensions<M> {
    fn default() -> Self {
        Self {
            methods: Vec::new(),
            optimizer: None,
        }
    }
}

impl<M: PlasticModel> Extensions<M> {
    /// Only these methods.
    pub fn methods(methods: Vec<Box<dyn Method<M>>>) -> Self {
        Self {
            methods,
            optimizer: None,
        }
    }
}

/// Trains the model a config describes (`[model]`) on the data it describes (`[data]`).
pub fn train(config: &RunConfig, opts: &RunOptions) -> Result<RunSummary> {
    let device = training_device(config)?;
    struct Builtin<'a> {
        config: &'a RunConfig,
        opts: &'a RunOptions,
        device: Device,
    }
    impl Builtin<'_> {
        fn go<M: PlasticModel>(self, model: M) -> Result<RunSummary>
        where
            M::Input: RunInput,
        {
            let data = M::Input::task_data(self.config)?;
            run_model(self.config, model, data, &self.device, self.opts, Extensions::default())
        }
    }
    impl WithModel for Builtin<'_> {
        type Output = Result<RunSummary>;
        fn run<M: PlasticModel<Input = Tensor<2>>>(self, model: M) -> Result<RunSummary> {
            self.go(model)
        }
        fn run_tokens<M: PlasticModel<Input = Tokens>>(self, model: M) -> Result<RunSummary> {
            self.go(model)
        }
    }
    config.model.build(
        &device,
        Builtin {
            config,
            opts,
            device: device.clone(),
        },
    )?
}

/// Trains a model built by `init` (a user's own [`PlasticModel`] on images) on the config's
/// data, with the config's methods and `ext`'s. `[model]` in the config is ignored.
pub fn train_with<M: PlasticModel<Input = Tensor<2>>>(
    config: &RunConfig,
    opts: &RunOptions,
    init: impl FnOnce(&Device) -> M,
    ext: Extensions<M>,
) -> Result<RunSummary> {
    let device = training_device(config)?;
    let model = init(&device);
    let data = image_data(config, None)?;
    run_model(config, model, data, &device, opts, ext)
}

/// Trains a model of any input type (token sequences, say) on `data`, with the config's
/// methods and `ext`'s; `[data]` and `[model]` in the config are ignored.
pub fn train_on<M: PlasticModel>(
    config: &RunConfig,
    opts: &RunOptions,
    init: impl FnOnce(&Device) -> M,
    data: TaskData<M::Input>,
    ext: Extensions<M>,
) -> Result<RunSummary> {
    let device = training_device(config)?;
    let model = init(&device);
    run_model(config, model, data, &device, opts, ext)
}

/// The config's device with autodiff, seeded: models are created on it.
pub fn training_device(config: &RunConfig) -> Result<Device> {
    let device = parse_device(&config.device)
        .and_then(|choice| choice.open())
        .map_err(|e| TrainError::Device(e.to_string()))?;
    device.seed(config.seed);
    Ok(device.autodiff())
}

/// Whether the config's device is a CPU backend (our optimizers then update in host memory).
pub(crate) fn host_device(config: &RunConfig) -> bool {
    matches!(parse_device(&config.device), Ok(DeviceChoice::Flex | DeviceChoice::Ndarray))
}

/// The `[data]` splits as a task, checking the features per example against `input`.
pub(crate) fn image_data(config: &RunConfig, input: Option<usize>) -> Result<TaskData<Tensor<2>>> {
    let raw = load_raw(&config.data)?;
    let splits = prepare(&raw, &config.data, config.seed)?;
    if let Some(input) = input
        && input != splits.train.dim()
    {
        return Err(TrainError::config(
            "model",
            format!(
                "the model takes {input} features per example, but the images have {}",
                splits.train.dim()
            ),
        ));
    }
    Ok(TaskData {
        train: splits.train,
        valid: splits.valid,
        test: splits.test,
    })
}

/// Parameter paths of the trained module, to their ids (optimizer state is saved by path).
pub fn path_ids<T: Module>(module: &T) -> BTreeMap<String, ParamId> {
    param_infos(module).into_iter().map(|p| (p.path, p.id)).collect()
}

/// The model of the finished run in `from`, to start a new run from: its `model.bpk`. When that
/// run used methods (its `config.toml` has a method table), they are attached and restored first
/// (so that every tensor of `model.bpk` has its place), and their reparameterizations are then
/// baked (Burn's `materialize`): the new run starts from the function the old one computed, as
/// plain weights, all trainable. Method modules (TauGate's gates) are not carried over.
fn init_from<M: PlasticModel>(model: M, from: &Path, device: &Device) -> Result<M> {
    let config_path = from.join("config.toml");
    let base = match config_path.exists() {
        true => Some(crate::load::load_config(&config_path, &[])?),
        false => None,
    };
    match base.filter(RunConfig::has_methods) {
        None => load_model_file(model, &from.join("model.bpk")),
        Some(base) => {
            let (trainee, _) = crate::artifacts::load_run(model, Methods::new(base.methods())?, from, device)?;
            Ok(trainee.model.materialize().set_require_grad(true))
        }
    }
}

/// Checkpoints, progress lines and stopping after each epoch of a run.
pub(crate) struct RunEpochEnd<'a> {
    dir: PathBuf,
    keep: usize,
    epochs: usize,
    rules: StopRules,
    opts: &'a RunOptions,
    /// Checkpoint of epoch `e` is written as `offset + e` (a compact stream numbers its
    /// checkpoints across tasks).
    offset: usize,
    /// A checkpoint after every epoch (otherwise only when Ctrl-C stops the run).
    every_epoch: bool,
}

impl<'a> RunEpochEnd<'a> {
    /// Checkpoints into `dir` for a task of `epochs` epochs, with the config's stopping rules.
    pub(crate) fn new(dir: PathBuf, config: &RunConfig, epochs: usize, opts: &'a RunOptions) -> Self {
        Self {
            dir,
            keep: config.train.keep_checkpoints,
            epochs,
            rules: StopRules {
                patience: config.train.early_stopping_patience,
                valid_accuracy: config.train.stop_at_valid_accuracy,
            },
            opts,
            offset: 0,
            every_epoch: true,
        }
    }

    /// Checkpoints numbered from `offset`, written only when Ctrl-C stops the run.
    pub(crate) fn on_interrupt_only(self, offset: usize) -> Self {
        Self {
            offset,
            every_epoch: false,
            ..self
        }
    }
}

impl<M: PlasticModel> EpochEnd<M> for RunEpochEnd<'_> {
    fn epoch_end(&mut self, epoch: usize, state: &TrainState<M>) -> Result<Flow> {
        let records = state.history.records_until(epoch);
        let stop = stop_reason(&self.opts.signal, self.rules, &records, epoch);
        if self.every_epoch || matches!(stop, Some(Stop::Interrupt(_))) {
            write_checkpoint(&self.dir, self.offset + epoch, state)?;
            for old in checkpoint_epochs(&self.dir).into_iter().skip(self.keep) {
                delete_checkpoint(&self.dir, old)?;
            }
        }
        if let Some(r) = records.last() {
            crate::progress::report_epoch(r, self.epochs, self.opts.quiet);
        }
        Ok(match stop {
            None => Flow::Continue,
            Some(Stop::Finish(reason)) => Flow::Finish(reason),
            Some(Stop::Interrupt(reason)) => Flow::Interrupt(reason),
        })
    }

    fn abort(&self) -> Option<String> {
        self.opts
            .signal
            .immediate()
            .then(|| "stopped by a second Ctrl-C; resume with --resume".to_string())
    }
}

/// Trains `model` (on `device`, an autodiff device) on `data` as `config` says, in the run
/// directory, with the config's methods and then `ext`'s.
pub fn run_model<M: PlasticModel>(
    config: &RunConfig,
    mut model: M,
    data: TaskData<M::Input>,
    device: &Device,
    opts: &RunOptions,
    ext: Extensions<M>,
) -> Result<RunSummary> {
    let started = Instant::now();
    let dir = config.run_dir();
    let ckpt_dir = dir.join("checkpoint");
    std::fs::create_dir_all(&ckpt_dir).map_err(|e| TrainError::io(&ckpt_dir, e))?;
    crate::logging::attach_run_log(&dir.join("run.log"));
    tracing::info!(
        "data: {} train, {} valid, {} test examples",
        data.train.len(),
        data.valid.len(),
        data.test.len()
    );
    if let Some(from) = &config.init_from {
        model = init_from(model, from, device)?;
    }
    // Initialise every lazy parameter now (loading `init_from` already did, without drawing
    // from the device RNG, so adapters then draw what they drew before): before a clone is
    // frozen or reparameterized (burn-0.22.md §11.7) and before the first epoch reseeds.
    let _ = param_infos(&model);
    let mut list = config.methods::<M>();
    list.extend(ext.methods);
    let methods = Methods::new(list)?;

    let checkpoint = match opts.resume {
        true => {
            let found = latest_intact(&ckpt_dir)?;
            if found.is_none() {
                tracing::warn!("--resume: no intact checkpoint in {}; starting from epoch 1", ckpt_dir.display());
            }
            found
        }
        false if !checkpoint_epochs(&ckpt_dir).is_empty() => {
            return Err(TrainError::Run(format!(
                "{} already holds checkpoints of a run; pass --resume to continue it, or set another name/output_dir",
                ckpt_dir.display()
            )));
        }
        false => None,
    };
    let batch = config.train.batch_size;
    let steps_per_epoch = data.train.len().div_ceil(batch);
    let total_steps = steps_per_epoch * config.train.epochs;
    let (state, first_epoch) = start_state(config, model, methods, ext.optimizer, checkpoint.as_ref(), 0, &ckpt_dir, total_steps, device)?;
    if let Some(c) = &checkpoint {
        tracing::info!("resuming after epoch {}", c.epoch);
        if !opts.quiet {
            println!("resuming at epoch {}/{}", c.epoch + 1, config.train.epochs);
        }
    }
    let resumed_after = (first_epoch > 1).then_some(first_epoch - 1);
    let spec = TaskSpec {
        index: 0,
        epochs: config.train.epochs,
        first_epoch,
        batch_size: batch,
        eval_batch_size: config.train.eval_batch_size,
        grad_clip_norm: config.optimizer.common().grad_clip_norm,
        shuffle_seed: mix(config.seed, STREAM_SHUFFLE),
        rng_seed: mix(config.seed, STREAM_TRAIN_RNG),
        logit_mask: None,
    };
    let mut end = RunEpochEnd::new(ckpt_dir, config, config.train.epochs, opts);
    let (state, how) = train_task(state, &data, &spec, device, &mut end)?;
    let stopped = match how {
        TaskEnd::Completed => None,
        TaskEnd::Finished(reason) | TaskEnd::Interrupted(reason) => {
            tracing::info!("{reason}");
            Some(reason)
        }
    };
    finish_run(config, &dir, state, &data, device, started, resumed_after, stopped)
}

/// The state a task starts from: `methods` attached to `model`, `optimizer` (or one built from
/// the config) and the schedule over `total_steps`. With a checkpoint (read from `ckpt_dir`),
/// the methods' state, the model, the optimizer's state, the schedule, the step and the history
/// come from it; its file number less `offset` is the epoch it was written after. Returns the
/// state and the first epoch to train.
#[allow(clippy::too_many_arguments)]
pub(crate) fn start_state<M: PlasticModel>(
    config: &RunConfig,
    model: M,
    mut methods: Methods<M>,
    optimizer: Option<Optimizer>,
    checkpoint: Option<&Checkpoint>,
    offset: usize,
    ckpt_dir: &Path,
    total_steps: usize,
    device: &Device,
) -> Result<(TrainState<M>, usize)> {
    if let Some(c) = checkpoint {
        methods.restore(c.methods.clone())?;
    }
    let cx = AttachContext {
        device,
        total_steps,
        run_dir: None,
    };
    let mut trainee = methods.attach(model, &cx)?;
    // Loading a checkpoint restores the parameter ids it was written with (Burn's
    // `load_record`): load it before anything keyed by id (the optimizer's no-decay group).
    if let Some(c) = checkpoint {
        let path = crate::checkpoint::checkpoint_path(ckpt_dir, "model", c.epoch);
        trainee = trainee.try_load_record(c.model.clone()).map_err(|e| TrainError::Checkpoint {
            path,
            message: format!("does not fit this model ({e}); was it written by a run with a different [model] or methods?"),
        })?;
        methods.loaded(&trainee.model)?;
    }
    let mut optimizer = match optimizer {
        Some(optimizer) => optimizer,
        None => build_optimizer(&config.optimizer, &trainee, methods.as_slice(), host_device(config), device)?,
    };
    let mut schedule = build_schedule(&config.schedule, config.optimizer.lr(), total_steps)?;
    let (history, step, first_epoch) = match checkpoint {
        Some(c) => {
            let optim_path = crate::checkpoint::checkpoint_path(ckpt_dir, "optim", c.epoch);
            optimizer
                .load_bytes(c.optim.clone(), &path_ids(&trainee))
                .map_err(|message| TrainError::Checkpoint {
                    path: optim_path,
                    message,
                })?;
            schedule = schedule.load_record(c.scheduler.clone());
            (c.history(), c.progress.step, c.epoch - offset + 1)
        }
        None => (History::default(), 0, 1),
    };
    let state = TrainState {
        trainee,
        methods,
        optimizer,
        schedule,
        step,
        history,
    };
    Ok((state, first_epoch))
}

/// After training: the final files, the test evaluation, the methods' artifacts and reports,
/// `results.json`.
#[allow(clippy::too_many_arguments)]
fn finish_run<M: PlasticModel>(
    config: &RunConfig,
    dir: &Path,
    state: TrainState<M>,
    data: &TaskData<M::Input>,
    device: &Device,
    started: Instant,
    resumed_after: Option<usize>,
    stopped: Option<String>,
) -> Result<RunSummary> {
    save_final(dir, &state.trainee, &state.methods)?;
    let parameters = Parameters::of(&census(&state.trainee, &state.methods));
    let inner = device.clone().inner();
    let valid = state.trainee.valid();
    let forward = Forward {
        mode: Mode::Eval,
        step: state.step,
    };
    let test: Option<Evaluation> = config.train.test.then(|| {
        evaluate(
            |x| state.methods.forward(&valid, x, forward),
            data.test.as_ref(),
            config.train.eval_batch_size,
            &inner,
        )
    });
    let cx = ArtifactContext {
        dir,
        test: config.train.test.then_some(&data.test),
        device: &inner,
        eval_batch_size: config.train.eval_batch_size,
        steps: state.step,
    };
    let mut sections = BTreeMap::new();
    for m in state.methods.iter() {
        let name = m.name();
        if let Some(section) = m
            .artifacts(&valid.model, &valid.modules, &cx)
            .map_err(|e| method_error(&name, e))?
        {
            sections.insert(name, section);
        }
    }
    let epochs = state.history.records_until(usize::MAX);
    let mut results = Results::new(
        config,
        epochs,
        test,
        parameters,
        started.elapsed().as_secs_f64(),
        resumed_after,
        stopped,
    );
    results.methods = sections;
    write_report(dir, &results)?;
    Ok(RunSummary {
        dir: dir.to_path_buf(),
        results,
    })
}
