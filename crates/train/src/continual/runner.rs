//! `plasticity continual`: one model trained on the tasks of `[continual.stream]` in turn, each
//! task with [`train_task`] (so methods see `task_start`/`task_end`), the optimizer state
//! carried over (or reset, `reset_optimizer`), and every task's test set evaluated before the
//! first task and after each one: the accuracy matrix `R` and its metrics.
//!
//! Layout (`layout = "per-task"`): `task-<k>/` is a normal run directory (config.toml with the
//! task's `[data]`, model.bpk, methods.bpk, results.json, curves.png, checkpoint/), and the
//! top-level `results.json` holds `R`, the metrics and per-task wall time and optimizer-state
//! bytes, with `accuracy-matrix.png` and `tasks.png`. In the task-incremental scenario each
//! task's logits are masked to its classes in training, validation and evaluation.
//!
//! Resume: `stream.json` holds the rows of R so far; each task's `checkpoint/` starts with an
//! epoch-0 checkpoint (the state after the previous task, `task_end` included), so `--resume`
//! skips the finished tasks and continues the unfinished one from its latest intact
//! checkpoint. Work in progress: the compact layout.

use super::metrics::{AccuracyMatrix, StreamMetrics};
use super::stream::StreamTask;
use crate::artifacts::save_final;
use crate::checkpoint::{latest_intact, write_checkpoint};
use crate::config::RunConfig;
use crate::datasets::{STREAM_SHUFFLE, STREAM_TRAIN_RNG, load_raw, prepare};
use crate::error::{Result, TrainError};
use crate::history::History;
use crate::optim::build_optimizer;
use crate::params::{Parameters, census};
use crate::report::{Results, write_report};
use crate::runner::{RunEpochEnd, RunOptions, host_device, start_state, training_device};
use crate::task::{TaskEnd, TaskSpec, TrainState, mask_logits, train_task};
use crate::trainee::Methods;
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use plasticity_core::{Evaluation, Forward, Mode, PlasticModel, TaskData, evaluate, param_infos};
use plasticity_data::mix;
use plasticity_models::WithModel;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
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
}

/// What `plasticity continual` returns.
pub struct StreamSummary {
    pub dir: PathBuf,
    pub tasks: Vec<String>,
    pub matrix: AccuracyMatrix,
    pub metrics: StreamMetrics,
}

/// The top-level `results.json` of a stream.
#[derive(Serialize)]
struct StreamResults<'a> {
    tasks: &'a [String],
    /// `R[i][j]`: accuracy on task `j` after training on task `i` (row 0: at initialisation).
    accuracy_matrix: &'a [Vec<f64>],
    test_examples: &'a [usize],
    metrics: &'a StreamMetrics,
    task_wall_seconds: &'a [f64],
    /// Optimizer-state bytes (checkpoint file) after each task.
    optimizer_state_bytes: &'a [usize],
    wall_seconds: f64,
}

/// `stream.json`: the rows of R measured so far (row 0 and one per finished task) and the
/// per-task figures, rewritten atomically after each task; `--resume` continues from it.
#[derive(Serialize, Deserialize, Default)]
struct StreamProgress {
    rows: Vec<Vec<f64>>,
    task_wall_seconds: Vec<f64>,
    optimizer_state_bytes: Vec<usize>,
}

const PROGRESS_FILE: &str = "stream.json";

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
            let datas = self
                .tasks
                .iter()
                .map(|t| task_data(&raw, t, self.config.seed, input))
                .collect::<Result<Vec<_>>>()?;
            run_stream(self.config, self.continual, &self.tasks, model, &datas, &self.device, self.opts)
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
    )
}

/// One task's splits, relabelled for the domain-incremental scenario.
fn task_data(raw: &plasticity_data::Mnist, task: &StreamTask, seed: u64, input: usize) -> Result<TaskData<Tensor<2>>> {
    let splits = prepare(raw, &task.data, seed)?;
    if splits.train.dim() != input {
        return Err(TrainError::config(
            "model",
            format!("the model takes {input} features per example, but the images have {}", splits.train.dim()),
        ));
    }
    let relabel = |set: Arc<plasticity_data::ImageSet>| -> plasticity_core::Examples<Tensor<2>> {
        match task.label_map {
            None => set,
            Some(map) => {
                let mut set = (*set).clone();
                set.labels.iter_mut().for_each(|l| *l = map[*l as usize]);
                Arc::new(set)
            }
        }
    };
    Ok(TaskData {
        train: relabel(splits.train),
        valid: relabel(splits.valid),
        test: relabel(splits.test),
    })
}

fn run_stream<M: PlasticModel<Input = Tensor<2>>>(
    config: &RunConfig,
    continual: &ContinualConfig,
    tasks: &[StreamTask],
    model: M,
    datas: &[TaskData<Tensor<2>>],
    device: &Device,
    opts: &RunOptions,
) -> Result<StreamSummary> {
    let started = Instant::now();
    let dir = config.run_dir();
    let progress_path = dir.join(PROGRESS_FILE);
    let progress: Option<StreamProgress> = match (opts.resume, progress_path.exists()) {
        (true, true) => {
            let bytes = std::fs::read(&progress_path).map_err(|e| TrainError::io(&progress_path, e))?;
            Some(serde_json::from_slice(&bytes).map_err(|e| TrainError::io(&progress_path, format!("not a stream's progress file: {e}")))?)
        }
        (false, true) => {
            return Err(TrainError::Run(format!(
                "{} already holds a stream; pass --resume to continue it, or set another name/output_dir",
                dir.display()
            )));
        }
        (_, false) => None,
    };
    // The first task not finished, and the checkpoint to continue it from: one inside it, or
    // the one written at its start (epoch 0: the state after the previous task).
    let first_task = progress.as_ref().map_or(0, |p| p.rows.len().saturating_sub(1));
    if progress.as_ref().is_some_and(|p| p.rows.len() != p.task_wall_seconds.len() + 1 || first_task > tasks.len()) {
        return Err(TrainError::io(&progress_path, "its rows do not match this stream's tasks"));
    }
    let checkpoint = match &progress {
        Some(_) if first_task < tasks.len() => latest_intact(&dir.join(format!("task-{first_task}")).join("checkpoint"))?,
        _ => None,
    };
    std::fs::create_dir_all(&dir).map_err(|e| TrainError::io(&dir, e))?;
    let _ = param_infos(&model);
    let methods = Methods::new(config.methods::<M>())?;
    let epochs = continual.epochs_per_task.unwrap_or(config.train.epochs);
    let batch = config.train.batch_size;
    let total_steps: usize = datas.iter().map(|d| d.train.len().div_ceil(batch) * epochs).sum();
    let first_dir = dir.join(format!("task-{first_task}")).join("checkpoint");
    let (mut state, first_epoch) = start_state(config, model, methods, None, checkpoint.as_ref(), &first_dir, total_steps, device)?;
    if checkpoint.is_some() {
        if !opts.quiet {
            println!("resuming task {}/{} at epoch {first_epoch}", first_task + 1, tasks.len());
        }
    } else if first_task > 0 {
        return Err(TrainError::Run(format!("--resume: no intact checkpoint in {}", first_dir.display())));
    }
    let inner = device.clone().inner();
    let evaluate_all = |state: &TrainState<M>| -> Vec<Evaluation> {
        let valid = state.trainee.valid();
        let forward = Forward {
            mode: Mode::Eval,
            step: state.step,
        };
        datas
            .iter()
            .zip(tasks)
            .map(|(d, t)| {
                let logits = |x| mask_logits(state.methods.forward(&valid, x, forward), t.logit_mask.as_deref());
                evaluate(logits, d.test.as_ref(), config.train.eval_batch_size, &inner)
            })
            .collect()
    };
    let accuracies = |evals: &[Evaluation]| evals.iter().map(|e| e.accuracy).collect::<Vec<f64>>();
    let write_progress = |p: &StreamProgress| -> Result<()> {
        let json = serde_json::to_vec_pretty(p).map_err(|e| TrainError::io(&progress_path, e))?;
        plasticity_core::files::write_atomic(&progress_path, &json).map_err(|e| TrainError::io(&progress_path, e))
    };
    let mut p = match progress {
        Some(p) => p,
        None => {
            let p = StreamProgress {
                rows: vec![accuracies(&evaluate_all(&state))],
                ..Default::default()
            };
            write_progress(&p)?;
            p
        }
    };
    for (k, (task, data)) in tasks.iter().zip(datas).enumerate().skip(first_task) {
        let task_started = Instant::now();
        let task_dir = dir.join(format!("task-{k}"));
        let ckpt = task_dir.join("checkpoint");
        std::fs::create_dir_all(&ckpt).map_err(|e| TrainError::io(&ckpt, e))?;
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
        let mut end = RunEpochEnd::new(ckpt, config, epochs, opts);
        if spec.first_epoch == 1 {
            state.history = History::default();
        }
        let (trained, how) = train_task(state, data, &spec, device, &mut end)?;
        state = trained;
        if let TaskEnd::Interrupted(reason) = how {
            return Err(TrainError::Run(format!("task {k} ({}) stopped: {reason}", task.name)));
        }
        let bytes = state.optimizer.to_bytes().map_err(TrainError::Run)?.len();
        if continual.reset_optimizer {
            state.optimizer = build_optimizer(&config.optimizer, &state.trainee, state.methods.as_slice(), host_device(config), device)?;
        }
        let evals = evaluate_all(&state);
        save_final(&task_dir, &state.trainee, &state.methods)?;
        let task_config = RunConfig {
            data: task.data.clone(),
            continual: None,
            output_dir: Some(task_dir.clone()),
            ..config.clone()
        };
        let results = Results::new(
            &task_config,
            state.history.records_until(usize::MAX),
            Some(evals[k].clone()),
            Parameters::of(&census(&state.trainee, &state.methods)),
            task_started.elapsed().as_secs_f64(),
            None,
            None,
        );
        write_report(&task_dir, &results)?;
        // The next task starts from this state (after task_end and any optimizer reset): its
        // checkpoint of epoch 0, so that --resume continues there.
        if k + 1 < tasks.len() {
            let next = dir.join(format!("task-{}", k + 1)).join("checkpoint");
            std::fs::create_dir_all(&next).map_err(|e| TrainError::io(&next, e))?;
            state.history = History::default();
            write_checkpoint(&next, 0, &state)?;
        }
        p.rows.push(accuracies(&evals));
        p.task_wall_seconds.push(task_started.elapsed().as_secs_f64());
        p.optimizer_state_bytes.push(bytes);
        write_progress(&p)?;
    }
    let StreamProgress {
        rows,
        task_wall_seconds: wall,
        optimizer_state_bytes: optimizer_bytes,
    } = p;
    let matrix = AccuracyMatrix::new(rows).map_err(TrainError::Run)?;
    let sizes: Vec<usize> = datas.iter().map(|d| d.test.len()).collect();
    let metrics = matrix.metrics(&sizes).map_err(TrainError::Run)?;
    let names: Vec<String> = tasks.iter().map(|t| t.name.clone()).collect();
    let results = StreamResults {
        tasks: &names,
        accuracy_matrix: matrix.rows(),
        test_examples: &sizes,
        metrics: &metrics,
        task_wall_seconds: &wall,
        optimizer_state_bytes: &optimizer_bytes,
        wall_seconds: started.elapsed().as_secs_f64(),
    };
    let path = dir.join("results.json");
    let json = serde_json::to_vec_pretty(&results).map_err(|e| TrainError::io(&path, e))?;
    plasticity_core::files::write_atomic(&path, &json).map_err(|e| TrainError::io(&path, e))?;
    let png = dir.join("accuracy-matrix.png");
    super::plots::accuracy_matrix_png(&png, &matrix, &names).map_err(|e| TrainError::io(&png, e))?;
    let png = dir.join("tasks.png");
    super::plots::tasks_png(&png, &matrix, &names).map_err(|e| TrainError::io(&png, e))?;
    Ok(StreamSummary {
        dir,
        tasks: names,
        matrix,
        metrics,
    })
}
