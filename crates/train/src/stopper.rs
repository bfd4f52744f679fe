//! When a run stops early: patience on the validation loss, and Ctrl-C.
//!
//! Both are checked after the epoch's checkpoint is written, so a stop never loses a finished
//! epoch. A first Ctrl-C finishes the current epoch and its checkpoint; a second one stops at
//! once (the run then resumes from the previous checkpoint).

use crate::history::EpochRecord;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Shared between the Ctrl-C handler and the training loop.
#[derive(Clone, Debug, Default)]
pub struct StopSignal {
    presses: Arc<AtomicUsize>,
}

impl StopSignal {
    pub fn new() -> Self {
        Self::default()
    }

    /// Called from a signal handler: the first press asks for a stop after the epoch, the
    /// second stops at once. Returns the number of presses so far.
    pub fn press(&self) -> usize {
        self.presses.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// A stop after the current epoch was asked for.
    pub fn requested(&self) -> bool {
        self.presses.load(Ordering::SeqCst) > 0
    }

    /// A stop at once was asked for.
    pub fn immediate(&self) -> bool {
        self.presses.load(Ordering::SeqCst) >= 2
    }
}

/// Why to stop after `epoch`, given the records so far and the early-stopping patience.
pub fn stop_reason(signal: &StopSignal, patience: Option<usize>, records: &[EpochRecord], epoch: usize) -> Option<Stop> {
    if signal.requested() {
        return Some(Stop::Interrupt(format!(
            "stopped after epoch {epoch} as asked (Ctrl-C); resume with --resume"
        )));
    }
    let patience = patience?;
    let best = records
        .iter()
        .filter(|r| r.epoch <= epoch && r.valid_loss.is_finite())
        .min_by(|a, b| a.valid_loss.total_cmp(&b.valid_loss))
        .map(|r| r.epoch)?;
    (epoch >= best + patience).then(|| {
        Stop::Finish(format!(
            "early stopping: no better validation loss since epoch {best} ({patience} epochs)"
        ))
    })
}

/// A stop decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Early stopping: the task is done.
    Finish(String),
    /// Ctrl-C: the run resumes later.
    Interrupt(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(losses: &[f64]) -> Vec<EpochRecord> {
        losses
            .iter()
            .enumerate()
            .map(|(i, &l)| EpochRecord {
                epoch: i + 1,
                valid_loss: l,
                ..Default::default()
            })
            .collect()
    }

    #[test]
    fn patience_counts_epochs_since_the_best_validation_loss() {
        let r = records(&[1.0, 0.5, 0.6, 0.7, 0.4]);
        let signal = StopSignal::new();
        let stops: Vec<bool> = (1..=5).map(|e| stop_reason(&signal, Some(2), &r, e).is_some()).collect();
        // best at epoch 2; epoch 4 is two epochs later.
        assert_eq!(stops, [false, false, false, true, false]);
        assert!(!(1..=5).any(|e| stop_reason(&signal, None, &r, e).is_some()));
    }

    #[test]
    fn first_ctrl_c_stops_after_the_epoch_second_at_once() {
        let r = records(&[1.0]);
        let s = StopSignal::new();
        assert_eq!(stop_reason(&s, None, &r, 1), None);
        assert_eq!(s.press(), 1);
        assert!(!s.immediate(), "the first press lets the epoch finish");
        assert!(matches!(stop_reason(&s, None, &r, 1), Some(Stop::Interrupt(_))));
        assert_eq!(s.press(), 2);
        assert!(s.immediate());
    }
}
