//! Where a stream's files go: a run directory per task, or one compact directory.

use crate::checkpoint::{Checkpoint, latest_intact};
use crate::error::Result;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// `[continual] layout`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// `task-<k>/` per task, each a normal run directory (config.toml with the task's `[data]`,
    /// model.bpk, methods.bpk, results.json, curves.png, a checkpoint after every epoch).
    #[default]
    PerTask,
    /// One directory for streams of hundreds of tasks: `checkpoint/` with a checkpoint at the
    /// start of every `checkpoint_every`-th task (and when Ctrl-C stops the stream), the final
    /// model.bpk and methods.bpk; the per-task figures are the lines of `tasks.jsonl`.
    Compact,
}

/// A stream's checkpoint places: which directory, and which file number, holds the checkpoint
/// written after epoch `e` of task `k` (`e = 0`: at the task's start, the state after the
/// previous task's `task_end`).
pub struct StreamFiles {
    pub dir: PathBuf,
    pub layout: Layout,
    /// Epochs per task.
    pub epochs: usize,
    pub checkpoint_every: usize,
}

impl StreamFiles {
    pub fn task_dir(&self, k: usize) -> PathBuf {
        self.dir.join(format!("task-{k}"))
    }

    /// The checkpoint directory of task `k`.
    pub fn checkpoints(&self, k: usize) -> PathBuf {
        match self.layout {
            Layout::PerTask => self.task_dir(k).join("checkpoint"),
            Layout::Compact => self.dir.join("checkpoint"),
        }
    }

    /// The file number of task `k`'s checkpoint after epoch `e`: `e` in a task's own directory;
    /// `k · (epochs + 1) + e` in the compact one.
    pub fn offset(&self, k: usize) -> usize {
        match self.layout {
            Layout::PerTask => 0,
            Layout::Compact => k * (self.epochs + 1),
        }
    }

    /// Whether task `k` (> 0) gets a checkpoint at its start.
    pub fn checkpoint_at_start(&self, k: usize) -> bool {
        k > 0
            && match self.layout {
                Layout::PerTask => true,
                Layout::Compact => k.is_multiple_of(self.checkpoint_every),
            }
    }

    /// The newest intact checkpoint of a task up to `last`, and its task: per task, the task
    /// directories from `last` down; compact, the newest in `checkpoint/`.
    pub fn latest(&self, last: usize) -> Result<Option<(usize, Checkpoint)>> {
        match self.layout {
            Layout::PerTask => {
                for k in (0..=last).rev() {
                    if let Some(c) = latest_intact(&self.checkpoints(k))? {
                        return Ok(Some((k, c)));
                    }
                }
                Ok(None)
            }
            Layout::Compact => Ok(latest_intact(&self.checkpoints(0))?.map(|c| (c.epoch / (self.epochs + 1), c))),
        }
    }

    /// Creates `path` (a directory) and its parents.
    pub fn create(path: &Path) -> Result<()> {
        std::fs::create_dir_all(path).map_err(|e| crate::error::TrainError::io(path, e))
    }
}
