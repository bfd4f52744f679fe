//! `plasticity continual`: one model trained on the tasks of `[continual.stream]` in turn, each
//! task with [`train_task`] (so methods see `task_start`/`task_end`), the optimizer state
//! carried over (or reset, `reset_optimizer`), and every task's test set evaluated before the
//! first task and after each one: the accuracy matrix `R` and its metrics.
//!
//! Layouts ([`Layout`]): `task-<k>/` run directories (default), or one compact directory with
//! periodic checkpoints. Either way the top level holds `tasks.jsonl` (a line per row of R, the
//! per-task figures: [`super::progress`]), `results.json` with `R`, the metrics and per-task wall
//! time and optimizer-state bytes, `accuracy-matrix.png` and `tasks.png`. In the
//! task-incremental scenario each task's logits are masked to its classes in training,
//! validation and evaluation.
//!
//! Resume: a checkpoint at a task's start holds the state after the previous task (`task_end`
//! included); `--resume` takes the newest intact checkpoint, cuts `tasks.jsonl` to it, skips the
//! finished tasks and continues the unfinished one. Ctrl-C stops the whole stream after a
//! checkpoint ([`TrainError::Interrupted`]).

use super::layout::{Layout, StreamFiles};
use super::metrics::{AccuracyMatrix, StreamMetrics};
use super::progress::{PROGRESS_FILE, Progress, STEP_DIAGNOSTICS_FILE, StepDiagnostics, TaskLine, append_line, cut_step_diagnostics};
use super::source::TaskSource;
use super::stream::StreamTask;
use crate::artifacts::save_final;
use crate::checkpoint::{Checkpoint, checkpoint_epochs, delete_checkpoint, write_checkpoint};
use crate::config::RunConfig;
use crate::datasets::{STREAM_SHUFFLE, STREAM_TRAIN_RNG, load_raw};
use crate::error::{Result, TrainError};
use crate::history::History;
use crate::optim::build_optimizer;
use crate::params::{Parameters, census};
use crate::report::{Results, write_report};
use crate::runner::{RunEpochEnd, RunOptions, host_device, start_state, training_device};
use crate::task::{EpochEnd, Flow, TaskEnd, TaskSpec, TrainState, mask_logits, train_task};
use crate::trainee::Methods;
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use plasticity_core::{Evaluation, Forward, Mode, PlasticModel, TaskData, evaluate, param_infos};
use plasticity_continual::diagnostics::{Diagnostics, diagnose};
use plasticity_data::mix;
use plasticity_models::WithModel;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Instant;

/// `[continual]`: the stream and what carries over between its tasks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContinualConfig {
    pub stream: super::StreamConfig,
    /// Epochs per task; default `train.epochs`.
    #[serde(default)]
    pub epochs_per_task: Option<usize>,
    /// Start every task with a fresh optimizer state (default: the state carries over, as in
    /// Avalanche's and van de Ven's naive baselines).
    #[serde(default)]
    pub reset_optimizer: bool,
    /// `"per-task"` (default) or `"compact"`: see [`Layout`].
    #[serde(default)]
    pub layout: Layout,
    /// Compact layout: a checkpoint at the start of every `checkpoint_every`-th task. Default 1.
    #[serde(default = "one")]
    pub checkpoint_every: usize,
    /// The plasticity diagnostics' probe batch: the first `probe_examples` test examples of the
    /// task just trained (of task 0 at initialisation). Default 500; 0 turns them off.
    #[serde(default = "five_hundred")]
    pub probe_examples: usize,
    /// `"matrix"` (default): every task's test set after each task, the accuracy matrix and
    /// its metrics. `"none"`: no test evaluation but what `new_task_accuracy` needs (long online
    /// streams, where the matrix would cost tasks² evaluations).
    #[serde(default)]
    pub evaluate: Evaluate,
    /// What a task's new-task accuracy is: `"test"` (default), the test accuracy on the task
    /// right after training on it; `"prequential"`, the training accuracy of its first epoch,
    /// each batch scored before the model trains on it (online streams: one pass).
    #[serde(default)]
    pub new_task_accuracy: NewTaskAccuracy,
    /// Also measure the diagnostics every this many optimizer steps inside tasks (long online
    /// tasks), into `diagnostics.jsonl`. Default 0: only after each task.
    #[serde(default)]
    pub diagnose_every: u64,
}

/// `[continual] evaluate`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Evaluate {
    #[default]
    Matrix,
    None,
}

/// `[continual] new_task_accuracy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NewTaskAccuracy {
    #[default]
    Test,
    Prequential,
}

fn five_hundred() -> usize {
    500
}

fn one() -> usize {
    1
}

impl ContinualConfig {
    /// Values serde cannot check; the error names the key.
    pub fn validate(&self) -> std::result::Result<(), (String, String)> {
        let bad = |key: &str, msg: &str| Err((format!("continual.{key}"), msg.to_string()));
        if self.checkpoint_every == 0 {
            return bad("checkpoint_every", "must be at least 1 (a checkpoint every that many tasks)");
        }
        if self.checkpoint_every != 1 && self.layout == Layout::PerTask {
            return bad(
                "checkpoint_every",
                "only the compact layout skips task checkpoints; set layout = \"compact\" or remove the key",
            );
        }
        if self.epochs_per_task == Some(0) {
            return bad("epochs_per_task", "must be at least 1");
        }
        Ok(())
    }
}

/// What `plasticity continual` returns.
pub struct StreamSummary {
    pub dir: PathBuf,
    pub tasks: Vec<String>,
    /// The accuracy matrix and its metrics (`evaluate = "matrix"`).
    pub matrix: Option<AccuracyMatrix>,
    pub metrics: Option<StreamMetrics>,
    /// Each task's new-task accuracy (`new_task_accuracy`).
    pub new_task_accuracy: Vec<f64>,
}

/// The top-level `results.json` of a stream.
#[derive(Serialize)]
struct StreamResults<'a> {
    tasks: &'a [String],
    /// `R[i][j]`: accuracy on task `j` after training on task `i` (row 0: at initialisation);
    /// empty with `evaluate = "none"`.
    accuracy_matrix: &'a [Vec<f64>],
    test_examples: &'a [usize],
    metrics: Option<&'a StreamMetrics>,
    task_wall_seconds: &'a [f64],
    /// Optimizer-state bytes (checkpoint file) after each task.
    optimizer_state_bytes: &'a [usize],
    /// Each task's accuracy right after training on it (`R[k+1][k]`, or prequential).
    new_task_accuracy: &'a [f64],
    /// The plasticity diagnostics per row of R (at initialisation, then after each task).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    diagnostics: &'a [Diagnostics],
    wall_seconds: f64,
}

/// Trains the config's model on its stream.
pub fn train_stream(config: &RunConfig, opts: &RunOptions) -> Result<StreamSummary> {
    let continual = config
        .continual
        .as_ref()
        .ok_or_else(|| TrainError::config("continual", "`plasticity continual` needs a [continual] table with a [continual.stream]"))?;
    let tasks = continual.stream.tasks(&config.data, config.seed).map_err(|(k, m)| TrainError::config(k, m))?;
    let device = training_device(config)?;
    struct Builtin<'a> {
        config: &'a RunConfig,
        continual: &'a ContinualConfig,
        tasks: Vec<StreamTask>,
        opts: &'a RunOptions,
        device: Device,
    }
    impl WithModel for Builtin<'_> {
        type Output = Result<StreamSummary>;
        fn run<M: PlasticModel<Input = Tensor<2>>>(self, model: M) -> Result<StreamSummary> {
            let raw = load_raw(&self.config.data)?;
            let input = self.config.model.input_features();
            let keep_all = self.continual.evaluate == Evaluate::Matrix;
            let source = TaskSource::new(raw, &self.tasks, self.config.seed, input, keep_all)?;
            run_stream(self.config, self.continual, &self.tasks, model, &source, &self.device, self.opts)
        }
        fn run_tokens<M: PlasticModel<Input = plasticity_core::Tokens>>(self, _model: M) -> Result<StreamSummary> {
            Err(TrainError::config("model.kind", "continual streams are image streams; train a token model with `plasticity train`"))
        }
    }
    config.model.build(
        &device,
        Builtin {
            config,
            continual,
            tasks,
            opts,
            device: device.clone(),
        },
    )?
}

/// A stream task's epoch ends (checkpoints, stopping: [`RunEpochEnd`]) and, every `every`
/// optimizer steps (0: never), `on_step` (the diagnostics inside long tasks).
struct StreamEnd<'a, F> {
    inner: RunEpochEnd<'a>,
    every: u64,
    on_step: F,
}

impl<M: PlasticModel, F: FnMut(&TrainState<M>) -> Result<()>> EpochEnd<M> for StreamEnd<'_, F> {
    fn epoch_end(&mut self, epoch: usize, state: &TrainState<M>) -> Result<Flow> {
        self.inner.epoch_end(epoch, state)
    }
    fn abort(&self) -> Option<String> {
        EpochEnd::<M>::abort(&self.inner)
    }
    fn step_end(&mut self, state: &TrainState<M>) -> Result<()> {
        match self.every > 0 && state.step.is_multiple_of(self.every) {
            true => (self.on_step)(state),
            false => Ok(()),
        }
    }
}

/// Where a stream starts: its progress so far, the first task to train, and the checkpoint to
/// continue it from (`None`: from the freshly built model, task 0).
fn resume_point(files: &StreamFiles, tasks: usize, opts: &RunOptions) -> Result<(Progress, usize, Option<Checkpoint>)> {
    let dir = &files.dir;
    match (opts.resume, Progress::exists(dir)) {
        (false, true) => Err(TrainError::Run(format!(
            "{} already holds a stream; pass --resume to continue it, or set another name/output_dir",
            dir.display()
        ))),
        (_, false) => Ok((Progress::new(dir), 0, None)),
        (true, true) => {
            let mut progress = Progress::read(dir)?;
            if progress.lines.iter().any(|l| !(l.accuracies.is_empty() || l.accuracies.len() == tasks)) || progress.lines.len() > tasks + 1 {
                return Err(TrainError::io(dir.join(PROGRESS_FILE), format!("its rows do not match this stream's {tasks} tasks")));
            }
            let last = progress.lines.len().saturating_sub(1);
            let (first, checkpoint) = match files.latest(last)? {
                Some((k, c)) => (k, Some(c)),
                None => (0, None),
            };
            if progress.lines.len() < first + 1 {
                return Err(TrainError::io(
                    dir.join(PROGRESS_FILE),
                    format!("has {} rows, but a checkpoint of task {first} exists: was it cut short?", progress.lines.len()),
                ));
            }
            // Tasks after the checkpoint are trained again (bit-identically): their lines go.
            if progress.lines.len() > first + 1 {
                progress.truncate(first + 1)?;
            }
            Ok((progress, first, checkpoint))
        }
    }
}

fn run_stream<M: PlasticModel<Input = Tensor<2>>>(
    config: &RunConfig,
    continual: &ContinualConfig,
    tasks: &[StreamTask],
    model: M,
    source: &TaskSource,
    device: &Device,
    opts: &RunOptions,
) -> Result<StreamSummary> {
    let started = Instant::now();
    let epochs = continual.epochs_per_task.unwrap_or(config.train.epochs);
    let files = StreamFiles {
        dir: config.run_dir(),
        layout: continual.layout,
        epochs,
        checkpoint_every: continual.checkpoint_every,
    };
    let dir = &files.dir;
    let (mut progress, first_task, checkpoint) = resume_point(&files, tasks.len(), opts)?;
    StreamFiles::create(dir)?;
    let config_path = dir.join("config.toml");
    let toml = toml::to_string_pretty(config).map_err(|e| TrainError::io(&config_path, e))?;
    plasticity_core::files::write_atomic(&config_path, toml.as_bytes()).map_err(|e| TrainError::io(&config_path, e))?;
    let _ = param_infos(&model);
    let methods = Methods::new(config.methods::<M>())?;
    let batch = config.train.batch_size;
    let total_steps: usize = (0..tasks.len()).map(|k| source.train_len(k).div_ceil(batch) * epochs).sum();
    let first_dir = files.checkpoints(first_task);
    let offset = files.offset(first_task);
    let (mut state, first_epoch) = start_state(config, model, methods, None, checkpoint.as_ref(), offset, &first_dir, total_steps, device)?;
    if checkpoint.is_some() && !opts.quiet {
        println!("resuming task {}/{} at epoch {first_epoch}", first_task + 1, tasks.len());
    }
    cut_step_diagnostics(dir, state.step)?;
    let inner = device.clone().inner();
    // Test evaluation of task `t` (its data `d`), its logits masked as the scenario says.
    let evaluate_on = |state: &TrainState<M>, d: &TaskData<Tensor<2>>, t: &StreamTask| -> Evaluation {
        let valid = state.trainee.valid();
        let forward = Forward {
            mode: Mode::Eval,
            step: state.step,
        };
        let logits = |x| mask_logits(state.methods.forward(&valid, x, forward), t.logit_mask.as_deref());
        evaluate(logits, d.test.as_ref(), config.train.eval_batch_size, &inner)
    };
    // Every task's test evaluation (`evaluate = "matrix"`), or none.
    let evaluate_all = |state: &TrainState<M>| -> Option<Vec<Evaluation>> {
        source.all().map(|all| all.iter().zip(tasks).map(|(d, t)| evaluate_on(state, d, t)).collect())
    };
    let accuracies = |evals: &Option<Vec<Evaluation>>| -> Vec<f64> { evals.iter().flatten().map(|e| e.accuracy).collect() };
    // The diagnostics on the first test examples of a task.
    let diagnose_on = |state: &TrainState<M>, d: &TaskData<Tensor<2>>| -> Option<Diagnostics> {
        let test = d.test.as_ref();
        let n = continual.probe_examples.min(test.len());
        (n > 0).then(|| {
            let batch = test.batch(&(0..n).collect::<Vec<_>>(), &inner);
            let valid = state.trainee.valid();
            let hooks = state.methods.hooks(&valid, Forward { mode: Mode::Eval, step: state.step });
            diagnose(&valid.model, hooks, batch.input, n)
        })
    };
    if progress.lines.is_empty() {
        progress.push(TaskLine {
            row: 0,
            task: None,
            accuracies: accuracies(&evaluate_all(&state)),
            new_task_accuracy: None,
            wall_seconds: 0.0,
            optimizer_state_bytes: 0,
            steps: 0,
            last_epoch: None,
            diagnostics: diagnose_on(&state, &source.get(0)?),
        })?;
    }
    for (k, task) in tasks.iter().enumerate().skip(first_task) {
        let data = source.get(k)?;
        let task_started = Instant::now();
        let ckpt = files.checkpoints(k);
        StreamFiles::create(&ckpt)?;
        if !opts.quiet {
            println!("task {}/{}: {}", k + 1, tasks.len(), task.name);
        }
        let spec = TaskSpec {
            index: k,
            epochs,
            first_epoch: if k == first_task { first_epoch } else { 1 },
            batch_size: batch,
            eval_batch_size: config.train.eval_batch_size,
            grad_clip_norm: config.optimizer.common().grad_clip_norm,
            // Each task its own shuffle and RNG streams: tasks do not replay one another's orders.
            shuffle_seed: mix(mix(config.seed, STREAM_SHUFFLE), k as u64),
            rng_seed: mix(mix(config.seed, STREAM_TRAIN_RNG), k as u64),
            logit_mask: task.logit_mask.clone(),
        };
        let mut inner = RunEpochEnd::new(ckpt, config, epochs, opts);
        if files.layout == Layout::Compact {
            inner = inner.on_interrupt_only(files.offset(k));
        }
        let step_file = dir.join(STEP_DIAGNOSTICS_FILE);
        let mut end = StreamEnd {
            inner,
            every: continual.diagnose_every,
            on_step: |state: &TrainState<M>| match diagnose_on(state, &data) {
                Some(diagnostics) => append_line(&step_file, &StepDiagnostics { task: k, step: state.step, diagnostics }),
                None => Ok(()),
            },
        };
        if spec.first_epoch == 1 {
            state.history = History::default();
        }
        let (trained, how) = train_task(state, &data, &spec, device, &mut end)?;
        state = trained;
        if let TaskEnd::Interrupted(reason) = how {
            return Err(TrainError::Interrupted(format!("task {} of {} ({}): {reason}", k + 1, tasks.len(), task.name)));
        }
        let bytes = state.optimizer.to_bytes().map_err(TrainError::Run)?.len();
        if continual.reset_optimizer {
            state.optimizer = build_optimizer(&config.optimizer, &state.trainee, state.methods.as_slice(), host_device(config), device)?;
        }
        let all = evaluate_all(&state);
        let test = match &all {
            Some(all) => Some(all[k]),
            None => (continual.new_task_accuracy == NewTaskAccuracy::Test || files.layout == Layout::PerTask)
                .then(|| evaluate_on(&state, &data, task)),
        };
        if files.layout == Layout::PerTask {
            let test = test.expect("the new task is evaluated in the per-task layout");
            write_task_dir(config, &files.task_dir(k), task, &state, &test, task_started)?;
        }
        let new_task_accuracy = match continual.new_task_accuracy {
            NewTaskAccuracy::Test => test.map(|e| e.accuracy),
            NewTaskAccuracy::Prequential => state.history.records_until(usize::MAX).first().map(|r| r.train_accuracy),
        };
        progress.push(TaskLine {
            row: k + 1,
            task: Some(task.name.clone()),
            accuracies: accuracies(&all),
            new_task_accuracy,
            wall_seconds: task_started.elapsed().as_secs_f64(),
            optimizer_state_bytes: bytes,
            steps: state.step,
            last_epoch: state.history.records_until(usize::MAX).last().cloned(),
            diagnostics: diagnose_on(&state, &data),
        })?;
        // The next task starts from this state (after task_end and any optimizer reset): its
        // checkpoint of epoch 0, so that --resume continues there.
        if k + 1 < tasks.len() && files.checkpoint_at_start(k + 1) {
            let next = files.checkpoints(k + 1);
            StreamFiles::create(&next)?;
            state.history = History::default();
            write_checkpoint(&next, files.offset(k + 1), &state)?;
            if files.layout == Layout::Compact {
                for old in checkpoint_epochs(&next).into_iter().skip(config.train.keep_checkpoints) {
                    delete_checkpoint(&next, old)?;
                }
            }
        }
    }
    if files.layout == Layout::Compact {
        save_final(dir, &state.trainee, &state.methods)?;
    }
    write_stream_results(dir, tasks, source, &progress, started)
}

/// Task `k`'s run directory (per-task layout): final model, config with the task's `[data]`,
/// results.json with its epochs and its test evaluation.
fn write_task_dir<M: PlasticModel>(
    config: &RunConfig,
    task_dir: &std::path::Path,
    task: &StreamTask,
    state: &TrainState<M>,
    test: &Evaluation,
    started: Instant,
) -> Result<()> {
    save_final(task_dir, &state.trainee, &state.methods)?;
    let task_config = RunConfig {
        data: task.data.clone(),
        continual: None,
        output_dir: Some(task_dir.to_path_buf()),
        ..config.clone()
    };
    let results = Results::new(
        &task_config,
        state.history.records_until(usize::MAX),
        Some(*test),
        Parameters::of(&census(&state.trainee, &state.methods)),
        started.elapsed().as_secs_f64(),
        None,
        None,
    );
    write_report(task_dir, &results)
}

/// The top-level results.json, accuracy-matrix.png and tasks.png of a finished stream.
fn write_stream_results(
    dir: &std::path::Path,
    tasks: &[StreamTask],
    source: &TaskSource,
    progress: &Progress,
    started: Instant,
) -> Result<StreamSummary> {
    let sizes: Vec<usize> = source.all().map(|all| all.iter().map(|d| d.test.len()).collect()).unwrap_or_default();
    let evaluated = progress.lines.iter().all(|l| !l.accuracies.is_empty());
    let (matrix, metrics) = match evaluated {
        true => {
            let matrix = AccuracyMatrix::new(progress.rows()).map_err(TrainError::Run)?;
            let metrics = matrix.metrics(&sizes).map_err(TrainError::Run)?;
            (Some(matrix), Some(metrics))
        }
        false => (None, None),
    };
    let names: Vec<String> = tasks.iter().map(|t| t.name.clone()).collect();
    let done = &progress.lines[1..];
    let wall: Vec<f64> = done.iter().map(|l| l.wall_seconds).collect();
    let optimizer_bytes: Vec<usize> = done.iter().map(|l| l.optimizer_state_bytes).collect();
    let new_task: Vec<f64> = done.iter().map(|l| l.new_task_accuracy.unwrap_or(f64::NAN)).collect();
    let diagnostics: Vec<Diagnostics> = progress.lines.iter().filter_map(|l| l.diagnostics.clone()).collect();
    let results = StreamResults {
        tasks: &names,
        accuracy_matrix: matrix.as_ref().map_or(&[], |m| m.rows()),
        test_examples: &sizes,
        metrics: metrics.as_ref(),
        task_wall_seconds: &wall,
        optimizer_state_bytes: &optimizer_bytes,
        new_task_accuracy: &new_task,
        diagnostics: &diagnostics,
        wall_seconds: started.elapsed().as_secs_f64(),
    };
    let path = dir.join("results.json");
    let json = serde_json::to_vec_pretty(&results).map_err(|e| TrainError::io(&path, e))?;
    plasticity_core::files::write_atomic(&path, &json).map_err(|e| TrainError::io(&path, e))?;
    if let Some(matrix) = &matrix {
        let png = dir.join("accuracy-matrix.png");
        super::plots::accuracy_matrix_png(&png, matrix, &names).map_err(|e| TrainError::io(&png, e))?;
        let png = dir.join("tasks.png");
        super::plots::tasks_png(&png, matrix, &names).map_err(|e| TrainError::io(&png, e))?;
    }
    if diagnostics.len() == progress.lines.len() {
        let png = dir.join("plasticity.png");
        super::plots::plasticity_png(&png, &diagnostics, &new_task).map_err(|e| TrainError::io(&png, e))?;
    }
    Ok(StreamSummary {
        dir: dir.to_path_buf(),
        tasks: names,
        matrix,
        metrics,
        new_task_accuracy: new_task,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_keys_are_checked_and_named() {
        let parse = |text: &str| -> ContinualConfig {
            toml::from_str(&format!("{text}\n[stream]\nkind = \"permuted-mnist\"\ntasks = 2\n")).unwrap()
        };
        let key = |text: &str| match parse(text).validate() {
            Err((key, _)) => key,
            Ok(()) => panic!("{text}: accepted"),
        };
        assert_eq!(parse("").layout, Layout::PerTask);
        assert!(parse("layout = \"compact\"\ncheckpoint_every = 10").validate().is_ok());
        assert_eq!(key("layout = \"compact\"\ncheckpoint_every = 0"), "continual.checkpoint_every");
        assert_eq!(key("checkpoint_every = 3"), "continual.checkpoint_every");
        assert_eq!(key("epochs_per_task = 0"), "continual.epochs_per_task");
        let e = toml::from_str::<ContinualConfig>("layout = \"dense\"\n[stream]\nkind = \"permuted-mnist\"\ntasks = 2\n").unwrap_err();
        assert!(e.to_string().contains("per-task") && e.to_string().contains("compact"), "{e}");
    }
}
