//! Atomic per-epoch checkpoints and the search for the last complete one.
//!
//! Burn's `FileCheckpointer` writes in place, so a run killed while writing leaves a truncated
//! file. [`AtomicCheckpointer`] writes `<name>-<epoch>.bpk.tmp`, syncs it and renames it. A
//! checkpoint is complete when the model, optimizer and scheduler files and the history
//! snapshot of that epoch all exist and load (and, for a run whose rules keep state, the
//! `rules-<epoch>.json` the model checkpointer writes with them).

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

/// The JSON written beside a checkpoint for an epoch (`None`: nothing this time), or an error.
pub type SidecarFn = Arc<dyn Fn(usize) -> std::result::Result<Option<Vec<u8>>, String> + Send + Sync>;

/// `<dir>/<name>-<epoch>.bpk`, written atomically, with JSON sidecars `<dir>/<sidecar>-<epoch>.json`
/// written (atomically, first) and deleted with it: the model checkpointer writes the run's
/// history and the extension rules' states.
pub struct AtomicCheckpointer {
    dir: PathBuf,
    name: &'static str,
    sidecars: Vec<(&'static str, SidecarFn)>,
}

impl AtomicCheckpointer {
    pub fn new(dir: &Path, name: &'static str) -> Self {
        Self {
            dir: dir.to_path_buf(),
            name,
            sidecars: Vec::new(),
        }
    }

    /// Also write the history of epochs `..= epoch` with each checkpoint (`history-<epoch>.json`).
    pub fn with_history(self, history: Arc<dyn Fn(usize) -> Vec<EpochRecord> + Send + Sync>) -> Self {
        self.with_sidecar(
            "history",
            Arc::new(move |epoch| {
                serde_json::to_vec_pretty(&history(epoch))
                    .map(Some)
                    .map_err(|e| e.to_string())
            }),
        )
    }

    /// Also write `<name>-<epoch>.json` with each checkpoint.
    pub fn with_sidecar(mut self, name: &'static str, contents: SidecarFn) -> Self {
        self.sidecars.push((name, contents));
        self
    }

    fn path(&self, epoch: usize) -> PathBuf {
        checkpoint_path(&self.dir, self.name, epoch)
    }
}

pub fn checkpoint_path(dir: &Path, name: &str, epoch: usize) -> PathBuf {
    dir.join(format!("{name}-{epoch}.bpk"))
}

/// `<dir>/<name>-<epoch>.json`.
pub fn sidecar_path(dir: &Path, name: &str, epoch: usize) -> PathBuf {
    dir.join(format!("{name}-{epoch}.json"))
}

pub fn history_path(dir: &Path, epoch: usize) -> PathBuf {
    sidecar_path(dir, "history", epoch)
}

impl<R: Checkpoint> Checkpointer<R> for AtomicCheckpointer {
    fn save(&self, epoch: usize, record: R) -> Result<(), CheckpointerError> {
        for (name, contents) in &self.sidecars {
            let path = sidecar_path(&self.dir, name, epoch);
            let json = contents(epoch).map_err(|e| CheckpointerError::Unknown(format!("{}: {e}", path.display())))?;
            if let Some(json) = json {
                write_atomic(&path, &json).map_err(|e| io_err(&path, e))?;
            }
        }
        let path = self.path(epoch);
        let bytes = record.checkpoint_into_bytes().map_err(CheckpointerError::Record)?;
        write_atomic(&path, &bytes).map_err(|e| io_err(&path, e))
    }

    fn delete(&self, epoch: usize) -> Result<(), CheckpointerError> {
        let mut paths = vec![self.path(epoch)];
        paths.extend(
            self.sidecars
                .iter()
                .map(|(name, _)| sidecar_path(&self.dir, name, epoch)),
        );
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

/// Reads the rule states written with epoch `epoch`'s checkpoint (`rules-<epoch>.json`); an
/// empty map when the run's rules keep no state.
pub fn load_rule_states(dir: &Path, epoch: usize) -> Result<serde_json::Map<String, serde_json::Value>> {
    let path = sidecar_path(dir, "rules", epoch);
    if !path.exists() {
        return Ok(serde_json::Map::new());
    }
    let bytes = std::fs::read(&path).map_err(|e| TrainError::io(&path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| TrainError::Checkpoint {
        path: path.clone(),
        message: format!("not a rule-state snapshot: {e}"),
    })
}
