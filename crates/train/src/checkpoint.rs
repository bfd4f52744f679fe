//! Atomic per-epoch checkpoints and the search for the last complete one.
//!
//! Burn's `FileCheckpointer` writes in place, so a run killed while writing leaves a truncated
//! file. [`AtomicCheckpointer`] writes `<name>-<epoch>.bpk.tmp`, syncs it and renames it. A
//! checkpoint is complete when the model, optimizer and scheduler files and the history
//! snapshot of that epoch all exist and load.

use crate::error::{Result, TrainError};
use crate::history::{EpochRecord, History};
use burn::train::checkpoint::{Checkpoint, Checkpointer, CheckpointerError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Writes `bytes` to `path` through a temporary file and a rename, so readers never see a
/// partial file. Errors name the file (a full disk shows up here).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn io_err(path: &Path, e: std::io::Error) -> CheckpointerError {
    CheckpointerError::Unknown(format!("{}: {e}", path.display()))
}

/// `<dir>/<name>-<epoch>.bpk`, written atomically. The model checkpointer also snapshots the
/// run's history as `<dir>/history-<epoch>.json`.
pub struct AtomicCheckpointer {
    dir: PathBuf,
    name: &'static str,
    history: Option<Arc<dyn Fn(usize) -> Vec<EpochRecord> + Send + Sync>>,
}

impl AtomicCheckpointer {
    pub fn new(dir: &Path, name: &'static str) -> Self {
        Self {
            dir: dir.to_path_buf(),
            name,
            history: None,
        }
    }

    /// Also write the history of epochs `..= epoch` with each checkpoint.
    pub fn with_history(mut self, history: Arc<dyn Fn(usize) -> Vec<EpochRecord> + Send + Sync>) -> Self {
        self.history = Some(history);
        self
    }

    fn path(&self, epoch: usize) -> PathBuf {
        checkpoint_path(&self.dir, self.name, epoch)
    }
}

pub fn checkpoint_path(dir: &Path, name: &str, epoch: usize) -> PathBuf {
    dir.join(format!("{name}-{epoch}.bpk"))
}

pub fn history_path(dir: &Path, epoch: usize) -> PathBuf {
    dir.join(format!("history-{epoch}.json"))
}

impl<R: Checkpoint> Checkpointer<R> for AtomicCheckpointer {
    fn save(&self, epoch: usize, record: R) -> Result<(), CheckpointerError> {
        if let Some(history) = &self.history {
            let path = history_path(&self.dir, epoch);
            let json =
                serde_json::to_vec_pretty(&history(epoch)).map_err(|e| CheckpointerError::Unknown(e.to_string()))?;
            write_atomic(&path, &json).map_err(|e| io_err(&path, e))?;
        }
        let path = self.path(epoch);
        let bytes = record.checkpoint_into_bytes().map_err(CheckpointerError::Record)?;
        write_atomic(&path, &bytes).map_err(|e| io_err(&path, e))
    }

    fn delete(&self, epoch: usize) -> Result<(), CheckpointerError> {
        let mut paths = vec![self.path(epoch)];
        if self.history.is_some() {
            paths.push(history_path(&self.dir, epoch));
        }
        for path in paths {
            if path.exists() {
                std::fs::remove_file(&path).map_err(|e| io_err(&path, e))?;
            }
        }
        Ok(())
    }

    fn restore(&self, epoch: usize) -> Result<R, CheckpointerError> {
        R::load(self.path(epoch))
    }
}

/// Epochs that have a model checkpoint in `dir`, newest first.
pub fn checkpoint_epochs(dir: &Path) -> Vec<usize> {
    let mut epochs: Vec<usize> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            name.strip_prefix("model-")?.strip_suffix(".bpk")?.parse().ok()
        })
        .collect();
    epochs.sort_unstable_by(|a, b| b.cmp(a));
    epochs
}

/// Reads the history snapshot written with epoch `epoch`'s checkpoint.
pub fn load_history(dir: &Path, epoch: usize) -> Result<History> {
    let path = history_path(dir, epoch);
    let bytes = std::fs::read(&path).map_err(|e| TrainError::io(&path, e))?;
    let records: Vec<EpochRecord> = serde_json::from_slice(&bytes).map_err(|e| TrainError::Checkpoint {
        path: path.clone(),
        message: format!("not a history snapshot: {e}"),
    })?;
    Ok(History::from_records(records))
}

/// A shared slot the history closure reads from.
pub type SharedHistory = Arc<Mutex<History>>;
