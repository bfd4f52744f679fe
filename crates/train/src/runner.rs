//! One training run: config → data → model → Burn's `SupervisedTraining` → run directory.

use crate::checkpoint::{
    AtomicCheckpointer, checkpoint_epochs, checkpoint_path, history_path, load_history, load_rule_states, sidecar_path,
};
use crate::config::RunConfig;
use crate::datasets::{STREAM_SHUFFLE, STREAM_TRAIN_RNG, Splits, load_raw, prepare};
use crate::device::parse_device;
use crate::error::{Result, TrainError};
use crate::evaluate::{Evaluation, evaluate};
use crate::extension::Extensions;
use crate::history::History;
use crate::optim::{build_optimizer, build_schedule};
use crate::report::{Results, write_report};
use crate::stopper::{RunStopper, StopSignal};
use crate::trainee::{TrainContext, Trainee};
use burn::lr_scheduler::LrSchedulerRecord;
use burn::module::Module;
use burn::optim::OptimizerRecord;
use burn::store::ModuleRecord;
use burn::tensor::Device;
use burn::train::checkpoint::KeepLastNCheckpoints;
use burn::train::{Interrupter, Learner, SupervisedTraining};
use plasticity_data::{EpochShuffleLoader, SequentialLoader, mix};
use plasticity_models::{PlasticModel, WithModel};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// How a run is launched (not part of the config: these do not change its numbers).
#[derive(Clone, Default)]
pub struct RunOptions {
    /// Continue from the last complete checkpoint in the run directory.
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

/// Trains the model a config describes (`[model]`).
pub fn train(config: &RunConfig, opts: &RunOptions) -> Result<RunSummary> {
    let device = training_device(config)?;
    struct Builtin<'a> {
        config: &'a RunConfig,
        opts: &'a RunOptions,
        device: Device,
    }
    impl WithModel for Builtin<'_> {
        type Output = Result<RunSummary>;
        fn run<M: PlasticModel>(self, model: M) -> Result<RunSummary> {
            let input = Some(self.config.model.input_features());
            run_model(
                self.config,
                model,
                &self.device,
                self.opts,
                Extensions::default(),
                input,
            )
        }
    }
    config.model.build(
        &device,
        Builtin {
            config,
            opts,
            device: device.clone(),
        },
    )
}

/// Trains a model built by `init` on the config's device (seeded first): the entry point for a
/// user's own [`PlasticModel`]. `[model]` in the config is ignored.
pub fn train_with<M: PlasticModel>(
    config: &RunConfig,
    opts: &RunOptions,
    init: impl FnOnce(&Device) -> M,
) -> Result<RunSummary> {
    let device = training_device(config)?;
    let model = init(&device);
    train_model(config, model, &device, opts, Extensions::default())
}

/// The config's device with autodiff, seeded: models are created on it, as Burn's trainer expects.
pub fn training_device(config: &RunConfig) -> Result<Device> {
    let device = parse_device(&config.device)
        .and_then(|choice| choice.open())
        .map_err(|e| TrainError::Device(e.to_string()))?;
    device.seed(config.seed);
    Ok(device.autodiff())
}

/// Loads a burnpack model file into `model`, with an error naming the file when it does not fit.
pub fn load_model_file<M: Module>(model: M, path: &Path) -> Result<M> {
    let record = ModuleRecord::load(path).map_err(|e| TrainError::Checkpoint {
        path: path.into(),
        message: e.to_string(),
    })?;
    model.try_load_record(record).map_err(|e| TrainError::Checkpoint {
        path: path.into(),
        message: format!("does not fit this model ({e}); was it written by a run with a different [model]?"),
    })
}

/// The newest epoch whose model, optimizer, scheduler and history files all load, the model
/// file into `probe(epoch)` (the module as that epoch's checkpoint must fit it; an error from
/// `probe` also marks the checkpoint unusable).
fn last_complete_checkpoint<T: Module>(dir: &Path, probe: impl Fn(usize) -> Result<T>) -> Result<Option<usize>> {
    let mut first_error = None;
    for epoch in checkpoint_epochs(dir) {
        let files = ["model", "optim", "scheduler"].map(|n| checkpoint_path(dir, n, epoch));
        if !files.iter().all(|f| f.exists()) || !history_path(dir, epoch).exists() {
            tracing::info!("checkpoint of epoch {epoch} is incomplete; trying an older one");
            continue;
        }
        let check = probe(epoch)
            .and_then(|module| load_model_file(module, &files[0]))
            .and_then(|_| {
                OptimizerRecord::load(&files[1]).map_err(|e| TrainError::Checkpoint {
                    path: files[1].clone(),
                    message: e.to_string(),
                })?;
                LrSchedulerRecord::load(&files[2]).map_err(|e| TrainError::Checkpoint {
                    path: files[2].clone(),
                    message: e.to_string(),
                })?;
                load_history(dir, epoch)
            });
        match check {
            Ok(_) => return Ok(Some(epoch)),
            Err(e) => {
                tracing::info!("skipping checkpoint of epoch {epoch}: {e}");
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(None),
    }
}

/// The `[peft]` method attached to `model`, shaped as the checkpoint of `epoch` (if any) needs:
/// TriAdaptLoRA's grown ranks come from that checkpoint's `rules-<epoch>.json`.
fn adapt_for_checkpoint<M: PlasticModel>(
    model: M,
    config: &RunConfig,
    ckpt_dir: &Path,
    epoch: Option<usize>,
    device: &Device,
) -> Result<(M, Option<plasticity_peft::GateSet>)> {
    let Some(peft) = &config.peft else {
        return Ok((model, None));
    };
    let pattern = match (&peft.method, epoch) {
        (crate::peft::PeftMethod::Triadapt(_), Some(epoch)) => {
            let states = load_rule_states(ckpt_dir, epoch)?;
            let pattern = crate::peft::triadapt::saved_pattern(&states).ok_or_else(|| TrainError::Checkpoint {
                path: sidecar_path(ckpt_dir, "rules", epoch),
                message: "holds no TriAdaptLoRA rank pattern".into(),
            })?;
            Some(pattern)
        }
        _ => None,
    };
    crate::peft::attach_shaped(model, peft, pattern.as_ref(), device)
}

/// Trains `model` (already on `device`, an autodiff device) as `config` says, with `ext`'s penalties and rules.
pub fn train_model<M: PlasticModel>(
    config: &RunConfig,
    model: M,
    device: &Device,
    opts: &RunOptions,
    ext: Extensions<M>,
) -> Result<RunSummary> {
    run_model(config, model, device, opts, ext, None)
}

/// [`train_model`], checking the data's features per example against `input` when known.
fn run_model<M: PlasticModel>(
    config: &RunConfig,
    mut model: M,
    device: &Device,
    opts: &RunOptions,
    ext: Extensions<M>,
    input: Option<usize>,
) -> Result<RunSummary> {
    let started = Instant::now();
    let dir = config.run_dir();
    let ckpt_dir = dir.join("checkpoint");
    std::fs::create_dir_all(&ckpt_dir).map_err(|e| TrainError::io(&ckpt_dir, e))?;
    crate::logging::attach_run_log(&dir.join("run.log"));

    let raw = load_raw(&config.data)?;
    let splits: Splits = prepare(&raw, &config.data, config.seed)?;
    tracing::info!(
        "data: {} train, {} valid, {} test examples",
        splits.train.len(),
        splits.valid.len(),
        splits.test.len()
    );
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
    if let Some(from) = &config.init_from {
        model = load_model_file(model, &from.join("model.bpk"))?;
    }
    // Initialise every lazy parameter now: before a clone is frozen or reparameterized
    // (burn-0.22 §11.7), and from the run seed, not from the per-epoch training stream that the
    // first step reseeds the device with.
    let _ = plasticity_peft::ParamCensus::of(&model);
    let resume_epoch = if opts.resume {
        // Checkpoints hold the whole Trainee (model + step count): probe with one, adapted to
        // the shapes each checkpoint needs.
        let probe = |epoch: usize| {
            let (model, gates) = adapt_for_checkpoint(model.clone(), config, &ckpt_dir, Some(epoch), device)?;
            let ctx = TrainContext::new(
                1,
                None,
                History::default(),
                Interrupter::new(),
                Extensions::<M>::default(),
            );
            Ok(Trainee::new(model, gates, Arc::new(ctx), device))
        };
        let found = last_complete_checkpoint(&ckpt_dir, probe)?;
        if found.is_none() {
            tracing::warn!(
                "--resume: no complete checkpoint in {}; starting from epoch 1",
                ckpt_dir.display()
            );
        }
        found
    } else {
        if !checkpoint_epochs(&ckpt_dir).is_empty() {
            return Err(TrainError::Run(format!(
                "{} already holds checkpoints of a run; pass --resume to continue it, or set another name/output_dir",
                ckpt_dir.display()
            )));
        }
        None
    };
    let (model, gates) = adapt_for_checkpoint(model, config, &ckpt_dir, resume_epoch, device)?;
    let mut ext = ext;
    if let Some(crate::peft::PeftMethod::Triadapt(c)) = config.peft_method() {
        let mut c = c.clone();
        let steps = splits.train.len().div_ceil(config.train.batch_size) * config.train.epochs;
        c.total_step.get_or_insert(steps);
        let more = crate::peft::triadapt::extensions(&c, &model)?;
        ext.penalties.extend(more.penalties);
        ext.rules.extend(more.rules);
    }
    if let Some(epoch) = resume_epoch {
        // Rules that keep state outside the model continue from the checkpoint's.
        let states = load_rule_states(&ckpt_dir, epoch)?;
        for rule in &ext.rules {
            if rule.state().is_none() {
                continue;
            }
            let path = sidecar_path(&ckpt_dir, "rules", epoch);
            let saved = states.get(rule.name()).ok_or_else(|| TrainError::Checkpoint {
                path: path.clone(),
                message: format!("holds no state for the rule `{}`", rule.name()),
            })?;
            rule.restore(saved)
                .map_err(|message| TrainError::Checkpoint { path, message })?;
        }
    }
    let history = match resume_epoch {
        Some(epoch) => load_history(&ckpt_dir, epoch)?,
        None => History::default(),
    };

    let batch = config.train.batch_size;
    let steps_per_epoch = splits.train.len().div_ceil(batch);
    let interrupter = Interrupter::new();
    opts.signal.attach(interrupter.clone());
    let total_steps = steps_per_epoch * config.train.epochs;
    let custom_optimizer = ext.optimizer.take();
    let rules = ext.rules.clone();
    let mut ctx = TrainContext::new(
        steps_per_epoch,
        config.optimizer.grad_clip_norm,
        history,
        interrupter.clone(),
        ext,
    );
    ctx.rng_seed = Some(mix(config.seed, STREAM_TRAIN_RNG));
    if let Some(crate::peft::PeftMethod::Lora(c)) = config.peft_method() {
        ctx.lora_dropout = plasticity_peft::LoraDropout::of(c);
    }
    if let Some(taugate) = config
        .peft_method()
        .and_then(|p| p.taugate())
        .filter(|t| t.anneal.is_some())
        .cloned()
    {
        ctx.gate_sharpness = Some(Box::new(move |step| taugate.sharpness_at(step as usize, total_steps)));
    }
    let ctx = Arc::new(ctx);
    let gates = match (gates, config.peft_method().and_then(|p| p.taugate())) {
        // A resumed run continues the annealed sharpness where it stopped.
        (Some(g), Some(t)) => {
            Some(g.with_sharpness(t.sharpness_at(resume_epoch.unwrap_or(0) * steps_per_epoch, total_steps)))
        }
        (g, _) => g,
    };
    let trainee = Trainee::new(model, gates, ctx.clone(), device);
    let params = crate::params::count_trainee_params(&trainee);
    let adapters_at_start = plasticity_peft::ParamCensus::of(&trainee.model).adapter_parameters();
    let optim = match custom_optimizer {
        Some(optim) => optim,
        None => build_optimizer(&config.optimizer)?,
    };
    let schedule = build_schedule(&config.schedule, config.optimizer.lr, total_steps)?;
    let first_epoch = resume_epoch.map_or(1, |e| e + 1);
    let train_loader = Arc::new(EpochShuffleLoader::new(
        splits.train.clone(),
        batch,
        mix(config.seed, STREAM_SHUFFLE),
        first_epoch,
        device.clone(),
    )?);
    let valid_loader = Arc::new(SequentialLoader::new(
        splits.valid.clone(),
        config.train.eval_batch_size,
        device.clone().inner(),
    )?);

    let history_ctx = ctx.clone();
    let history_fn = Arc::new(move |epoch: usize| {
        history_ctx
            .history
            .lock()
            .map(|h| h.records_until(epoch))
            .unwrap_or_default()
    });
    let rules_fn: crate::checkpoint::SidecarFn = Arc::new(move |_epoch| {
        let states = crate::extension::rule_states(&rules);
        if states.is_empty() {
            return Ok(None);
        }
        serde_json::to_vec_pretty(&states).map(Some).map_err(|e| e.to_string())
    });
    let mut training = SupervisedTraining::new(&dir, train_loader, valid_loader)
        .num_epochs(config.train.epochs)
        .with_custom_checkpointers(
            AtomicCheckpointer::new(&ckpt_dir, "model")
                .with_history(history_fn)
                .with_sidecar("rules", rules_fn),
            AtomicCheckpointer::new(&ckpt_dir, "optim"),
            AtomicCheckpointer::new(&ckpt_dir, "scheduler"),
        )
        .with_checkpointing_strategy(KeepLastNCheckpoints::new(config.train.keep_checkpoints))
        .early_stopping(RunStopper {
            ctx: ctx.clone(),
            patience: config.train.early_stopping_patience,
            signal: opts.signal.clone(),
        })
        .with_interrupter(interrupter)
        .with_application_logger(None);
    training = crate::progress::attach_renderer(training, ctx.clone(), resume_epoch, opts.quiet);
    if let Some(epoch) = resume_epoch {
        training = training.checkpoint(epoch);
    }
    let result = training.launch(Learner::new(trainee, optim, schedule));

    if let Some(failure) = ctx.failure() {
        return Err(TrainError::Run(failure));
    }
    if let Some(error) = &result.error {
        // Burn wraps checkpoint I/O errors as "Checkpoint error: Unknown error: `<path>: <cause>`".
        let cause = error
            .to_string()
            .replace("Checkpoint error: Unknown error: ", "checkpoint write failed: ");
        return Err(TrainError::Run(format!("training stopped: {cause}")));
    }
    let stopped = result
        .interrupted
        .as_ref()
        .map(|i| i.reason.clone().unwrap_or_else(|| "interrupted".into()));
    let trainee = result.model;
    crate::artifacts::save_final(&dir, &trainee, config.peft.as_ref())?;
    // TriAdaptLoRA's ranks grow during training: add what grew (every adapter trains).
    let grown = plasticity_peft::ParamCensus::of(&trainee.model).adapter_parameters() - adapters_at_start;
    let params = crate::params::ParamCounts {
        trainable: params.trainable + grown,
        total: params.total + grown,
    };

    let inner = device.clone().inner();
    let test: Option<Evaluation> = match config.train.test {
        true => Some(evaluate(
            |x| trainee.logits(x),
            splits.test.clone(),
            config.train.eval_batch_size,
            &inner,
        )?),
        false => None,
    };
    let peft = match (&trainee.gates, config.train.test) {
        (Some(gates), true) => Some(crate::gate_report::report(
            &dir,
            &trainee.model,
            gates,
            &splits.test,
            config,
            &inner,
        )?),
        _ => None,
    };
    let epochs = ctx
        .history
        .lock()
        .map(|h| h.records_until(usize::MAX))
        .unwrap_or_default();
    let mut results = Results::new(
        config,
        epochs,
        test,
        params,
        started.elapsed().as_secs_f64(),
        resume_epoch,
        stopped,
    );
    results.taugate = peft;
    write_report(&dir, &results)?;
    Ok(RunSummary { dir, results })
}
