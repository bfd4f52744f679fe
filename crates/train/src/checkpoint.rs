//! Per-epoch checkpoints, written synchronously at one consistent point after the epoch's
//! validation, and the search for the last intact one.
//!
//! A checkpoint of epoch `e` is five files in `checkpoint/`, each written atomically with a
//! `.sha256` beside it (`plasticity_core::files`):
//! - `model-<e>.bpk`: the trained module (model and method modules), burnpack;
//! - `optim-<e>.bpk`: the optimizer's state (ours, or Burn's `OptimizerRecord`);
//! - `scheduler-<e>.bpk`: the LR schedule;
//! - `methods-<e>.bpk`: every method's state (tensors and JSON metadata);
//! - `history-<e>.json`: the per-epoch records and the step count, written last: its presence
//!   marks the checkpoint complete.
//!
//! `--resume` takes the newest checkpoint whose five files are present and match their
//! checksums; a damaged newer one is reported and skipped.

use crate::error::{Result, TrainError};
use crate::history::{EpochRecord, History};
use crate::task::TrainState;
use burn::lr_scheduler::LrSchedulerRecord;
use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use plasticity_core::files::{FileError, read_verified, remove_verified, write_verified};
use plasticity_core::state::{bundle, unbundle};
use plasticity_core::{PlasticModel, TensorState};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The parts of a checkpoint, in writing order (the history last).
const PARTS: [&str; 5] = ["model", "optim", "scheduler", "methods", "history"];

/// `<dir>/<part>-<epoch>.bpk` (`.json` for the history).
pub fn checkpoint_path(dir: &Path, part: &str, epoch: usize) -> PathBuf {
    let ext = if part == "history" { "json" } else { "bpk" };
    dir.join(format!("{part}-{epoch}.{ext}"))
}

/// What `history-<epoch>.json` holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Progress {
    /// Optimizer steps taken when the checkpoint was written.
    pub step: u64,
    pub epochs: Vec<EpochRecord>,
}

fn file_error(e: FileError) -> TrainError {
    TrainError::Checkpoint {
        path: e.path().to_path_buf(),
        message: match &e {
            FileError::Io { source, .. } => source.to_string(),
            other => other.to_string().split_once(": ").map_or(other.to_string(), |(_, m)| m.to_string()),
        },
    }
}

/// Writes the checkpoint of `epoch` (see the module docs). A write that fails (a full disk)
/// is an error naming the file; the previous checkpoint stays intact.
pub fn write_checkpoint<M: PlasticModel>(dir: &Path, epoch: usize, state: &TrainState<M>) -> Result<()> {
    let bytes_error = |part: &str, e: String| TrainError::Checkpoint {
        path: checkpoint_path(dir, part, epoch),
        message: e,
    };
    let model = state
        .trainee
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| bytes_error("model", e.to_string()))?;
    let optim = state.optimizer.to_bytes().map_err(|e| bytes_error("optim", e))?;
    let scheduler = state
        .schedule
        .to_record()
        .into_bytes()
        .map_err(|e| bytes_error("scheduler", e.to_string()))?;
    let methods = bundle(&state.methods.states())
        .to_bytes()
        .map_err(|e| bytes_error("methods", e))?;
    let progress = Progress {
        step: state.step,
        epochs: state.history.records_until(epoch),
    };
    let history = serde_json::to_vec_pretty(&progress).map_err(|e| bytes_error("history", e.to_string()))?;
    let contents: [&[u8]; 5] = [&model, &optim, &scheduler, &methods, &history];
    for (part, bytes) in PARTS.iter().zip(contents) {
        write_verified(&checkpoint_path(dir, part, epoch), bytes).map_err(|e| TrainError::Run(format!(
            "training stopped: checkpoint write failed: {e}"
        )))?;
    }
    Ok(())
}

/// Deletes the checkpoint of `epoch` (history first, so a half-deleted one is incomplete).
pub fn delete_checkpoint(dir: &Path, epoch: usize) -> Result<()> {
    for part in PARTS.iter().rev() {
        remove_verified(&checkpoint_path(dir, part, epoch)).map_err(file_error)?;
    }
    Ok(())
}

/// Epochs with any checkpoint file in `dir`, newest first.
pub fn checkpoint_epochs(dir: &Path) -> Vec<usize> {
    let mut epochs: Vec<usize> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let stem = name.strip_suffix(".bpk").or_else(|| name.strip_suffix(".json"))?;
            let (part, epoch) = stem.rsplit_once('-')?;
            PARTS.contains(&part).then(|| epoch.parse().ok()).flatten()
        })
        .collect();
    epochs.sort_unstable_by(|a, b| b.cmp(a));
    epochs.dedup();
    epochs
}

/// A checkpoint read and verified, not yet applied to a model.
pub struct Checkpoint {
    pub epoch: usize,
    pub model: ModuleRecord,
    pub optim: Vec<u8>,
    pub scheduler: LrSchedulerRecord,
    pub methods: BTreeMap<String, TensorState>,
    pub progress: Progress,
}

impl Checkpoint {
    pub fn history(&self) -> History {
        History::from_records(self.progress.epochs.clone())
    }
}

/// Reads every file of the checkpoint of `epoch`, each checked against its checksum.
pub fn read_checkpoint(dir: &Path, epoch: usize) -> Result<Checkpoint> {
    let read = |part: &str| read_verified(&checkpoint_path(dir, part, epoch)).map_err(file_error);
    let bad = |part: &str, message: String| TrainError::Checkpoint {
        path: checkpoint_path(dir, part, epoch),
        message,
    };
    // The history first: without it the checkpoint is incomplete.
    let progress: Progress = serde_json::from_slice(&read("history")?)
        .map_err(|e| bad("history", format!("not a checkpoint history: {e}")))?;
    let model = ModuleRecord::from_bytes(Bytes::from_bytes_vec(read("model")?)).map_err(|e| bad("model", e.to_string()))?;
    let optim = read("optim")?;
    let scheduler = LrSchedulerRecord::from_bytes(Bytes::from_bytes_vec(read("scheduler")?))
        .map_err(|e| bad("scheduler", e.to_string()))?;
    let methods = unbundle(TensorState::from_bytes(read("methods")?).map_err(|e| bad("methods", e))?);
    Ok(Checkpoint {
        epoch,
        model,
        optim,
        scheduler,
        methods,
        progress,
    })
}

/// The newest checkpoint in `dir` whose files are all present and intact. A newer one that
/// is incomplete (a run killed while writing it) or damaged is skipped with a warning on the
/// log and on stderr, naming the file.
pub fn latest_intact(dir: &Path) -> Result<Option<Checkpoint>> {
    for epoch in checkpoint_epochs(dir) {
        match read_checkpoint(dir, epoch) {
            Ok(found) => return Ok(Some(found)),
            Err(e) => {
                // Said on stderr even with -q: the run continues from an older epoch.
                let message = format!("checkpoint of epoch {epoch} is unusable ({e}); trying the one before it");
                tracing::info!("{message}");
                eprintln!("warning: {message}");
            }
        }
    }
    Ok(None)
}
