//! `tasks.jsonl`: a stream's progress and per-task metrics, one JSON object per line. Line 0 is
//! row 0 of R (the accuracies at initialisation); line `k + 1` is written when task `k` is done:
//! its row of R and its figures. Lines are appended and synced one at a time, so a stream of
//! hundreds of tasks never rewrites what it has written; `--resume` reads the lines back
//! (dropping a last line torn by a kill) and cuts them to the checkpoint it continues from.

use crate::error::{Result, TrainError};
use crate::history::EpochRecord;
use plasticity_continual::diagnostics::Diagnostics;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const PROGRESS_FILE: &str = "tasks.jsonl";

/// One line of `tasks.jsonl`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskLine {
    /// The row of R: 0 at initialisation, `k + 1` after task `k`.
    pub row: usize,
    /// The task just trained (`None` on row 0).
    pub task: Option<String>,
    /// `R[row][j]` for every task `j` of the stream (empty with `evaluate = "none"`).
    pub accuracies: Vec<f64>,
    /// The task's accuracy right after training on it: test or prequential (`None` on row 0).
    #[serde(default)]
    pub new_task_accuracy: Option<f64>,
    /// The task's wall time: training, `task_end` and this evaluation (0 on row 0).
    pub wall_seconds: f64,
    /// Optimizer-state bytes (the checkpoint file's payload) after the task (0 on row 0).
    pub optimizer_state_bytes: usize,
    /// Optimizer steps taken since the stream started.
    pub steps: u64,
    /// The task's last epoch: train and validation loss and accuracy.
    pub last_epoch: Option<EpochRecord>,
    /// The plasticity diagnostics after the task (at initialisation on row 0), if measured.
    #[serde(default)]
    pub diagnostics: Option<Diagnostics>,
}

/// The lines of `tasks.jsonl` and where they are written.
pub struct Progress {
    path: PathBuf,
    pub lines: Vec<TaskLine>,
}

impl Progress {
    pub fn new(dir: &Path) -> Self {
        Self {
            path: dir.join(PROGRESS_FILE),
            lines: Vec::new(),
        }
    }

    pub fn exists(dir: &Path) -> bool {
        dir.join(PROGRESS_FILE).exists()
    }

    /// Reads the file. A last line that does not parse (a kill while appending it) is dropped;
    /// a bad line before it, or rows out of order, are an error naming the file and line.
    pub fn read(dir: &Path) -> Result<Self> {
        let mut progress = Self::new(dir);
        let text = std::fs::read_to_string(&progress.path).map_err(|e| TrainError::io(&progress.path, e))?;
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        for (i, line) in lines.iter().enumerate() {
            match serde_json::from_str::<TaskLine>(line) {
                Ok(l) if l.row == i => progress.lines.push(l),
                Ok(l) => {
                    return Err(TrainError::io(&progress.path, format!("line {}: row {} where row {i} was expected", i + 1, l.row)));
                }
                Err(_) if i + 1 == lines.len() && !text.ends_with('\n') => break,
                Err(e) => return Err(TrainError::io(&progress.path, format!("line {}: not a task line ({e})", i + 1))),
            }
        }
        Ok(progress)
    }

    /// Keeps the first `n` lines, on disk too (atomically).
    pub fn truncate(&mut self, n: usize) -> Result<()> {
        self.lines.truncate(n);
        let mut text = Vec::new();
        for line in &self.lines {
            text.extend(self.encode(line)?);
        }
        plasticity_core::files::write_atomic(&self.path, &text).map_err(|e| TrainError::io(&self.path, e))
    }

    /// Appends `line` (its row must be the next one) and syncs the file.
    pub fn push(&mut self, line: TaskLine) -> Result<()> {
        debug_assert_eq!(line.row, self.lines.len());
        append_line(&self.path, &line)?;
        self.lines.push(line);
        Ok(())
    }

    fn encode(&self, line: &TaskLine) -> Result<Vec<u8>> {
        let mut bytes = serde_json::to_vec(line).map_err(|e| TrainError::io(&self.path, e))?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    /// The rows of R so far.
    pub fn rows(&self) -> Vec<Vec<f64>> {
        self.lines.iter().map(|l| l.accuracies.clone()).collect()
    }
}

/// Appends `value` as one JSON line to `path` and syncs the file.
pub fn append_line(path: &Path, value: &impl Serialize) -> Result<()> {
    let mut bytes = serde_json::to_vec(value).map_err(|e| TrainError::io(path, e))?;
    bytes.push(b'\n');
    let io = |e: std::io::Error| TrainError::io(path, e);
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(io)?;
    file.write_all(&bytes).map_err(io)?;
    file.sync_data().map_err(io)
}

/// `diagnostics.jsonl`: the plasticity diagnostics every `diagnose_every` steps inside tasks.
pub const STEP_DIAGNOSTICS_FILE: &str = "diagnostics.jsonl";

/// One line of `diagnostics.jsonl`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepDiagnostics {
    /// The task being trained (0-based) and the optimizer steps since the stream started.
    pub task: usize,
    pub step: u64,
    pub diagnostics: Diagnostics,
}

/// Keeps the lines of `diagnostics.jsonl` up to `step` (a resumed stream measures the rest
/// again), dropping a torn last line; atomically.
pub fn cut_step_diagnostics(dir: &Path, step: u64) -> Result<()> {
    let path = dir.join(STEP_DIAGNOSTICS_FILE);
    if !path.exists() {
        return Ok(());
    }
    let text = std::fs::read_to_string(&path).map_err(|e| TrainError::io(&path, e))?;
    let mut kept = String::new();
    for line in text.lines() {
        match serde_json::from_str::<StepDiagnostics>(line) {
            Ok(d) if d.step <= step => {
                kept.push_str(line);
                kept.push('\n');
            }
            _ => {}
        }
    }
    plasticity_core::files::write_atomic(&path, kept.as_bytes()).map_err(|e| TrainError::io(&path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(row: usize) -> TaskLine {
        TaskLine {
            row,
            task: (row > 0).then(|| format!("t{row}")),
            accuracies: vec![0.5, 0.25],
            new_task_accuracy: None,
            wall_seconds: 1.0,
            optimizer_state_bytes: 8,
            steps: 3,
            last_epoch: None,
            diagnostics: None,
        }
    }

    #[test]
    fn lines_round_trip_and_a_torn_last_line_is_dropped() {
        let dir = std::env::temp_dir().join(format!("plasticity-progress-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut p = Progress::new(&dir);
        std::fs::remove_file(dir.join(PROGRESS_FILE)).ok();
        for row in 0..3 {
            p.push(line(row)).unwrap();
        }
        assert_eq!(Progress::read(&dir).unwrap().rows().len(), 3);
        // A kill while appending: half a line, no newline.
        let mut f = std::fs::OpenOptions::new().append(true).open(dir.join(PROGRESS_FILE)).unwrap();
        f.write_all(b"{\"row\":3,\"task\":").unwrap();
        let mut read = Progress::read(&dir).unwrap();
        assert_eq!(read.lines.len(), 3);
        read.truncate(2).unwrap();
        read.push(line(2)).unwrap();
        assert_eq!(Progress::read(&dir).unwrap().lines.len(), 3);
        // A bad line in the middle is an error naming the line.
        std::fs::write(dir.join(PROGRESS_FILE), "{}\n{\"row\":1}\n").unwrap();
        let e = Progress::read(&dir).err().unwrap().to_string();
        assert!(e.contains("line 1") && e.contains(PROGRESS_FILE), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
