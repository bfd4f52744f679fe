//! When a run stops early: patience on the validation loss, a target validation accuracy, and
//! Ctrl-C.
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

/// The early-stopping rules of `[train]`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StopRules {
    /// `early_stopping_patience`: epochs without a better validation loss.
    pub patience: Option<usize>,
    /// `stop_at_valid_accuracy`: the validation accuracy that ends the run.
    pub valid_accuracy: Option<f64>,
}

/// Why to stop after `epoch`, given the records so far and the rules.
pub fn stop_reason(signal: &StopSignal, rules: StopRules, records: &[EpochRecord], epoch: usize) -> Option<Stop> {
    if signal.requested() {
        return Some(Stop::Interrupt(format!(
            "stopped after epoch {epoch} as asked (Ctrl-C); resume with --resume"
        )));
    }
    if let (Some(target), Some(r)) = (rules.valid_accuracy, records.iter().find(|r| r.epoch == epoch))
        && r.valid_accuracy >= target
    {
        return Some(Stop::Finish(format!(
            "validation accuracy {:.4} reached stop_at_valid_accuracy = {target} after epoch {epoch}",
            r.valid_accuracy
        )));
    }
    let patience = rules.patience?;
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

    fn patience(epochs: usize) -> StopRules {
        StopRules {
            patience: Some(epochs),
            ..Default::default()
        }
    }

    #[test]
    fn target_accuracy_stops_after_the_first_epoch_reaching_it() {
        let mut r = records(&[1.0, 0.5, 0.4, 0.3]);
        for (record, acc) in r.iter_mut().zip([0.90, 0.969, 0.97, 0.98]) {
            record.valid_accuracy = acc;
        }
        let rules = StopRules {
            valid_accuracy: Some(0.97),
            ..Default::default()
        };
        let stops: Vec<bool> = (1..=4).map(|e| stop_reason(&StopSignal::new(), rules, &r, e).is_some()).collect();
        assert_eq!(stops, [false, false, true, true]);
        let Some(Stop::Finish(reason)) = stop_reason(&StopSignal::new(), rules, &r, 3) else { panic!() };
        assert!(reason.contains("0.9700") && reason.contains("epoch 3"), "{reason}");
    }

    #[test]
    fn patience_counts_epochs_since_the_best_validation_loss() {
        let r = records(&[1.0, 0.5, 0.6, 0.7, 0.4]);
        let signal = StopSignal::new();
        let stops: Vec<bool> = (1..=5).map(|e| stop_reason(&signal, patience(2), &r, e).is_some()).collect();
        // best at epoch 2; epoch 4 is two epochs later.
        assert_eq!(stops, [false, false, false, true, false]);
        assert!(!(1..=5).any(|e| stop_reason(&signal, StopRules::default(), &r, e).is_some()));
    }

    #[test]
    fn first_ctrl_c_stops_after_the_epoch_second_at_once() {
        let r = records(&[1.0]);
        let s = StopSignal::new();
        assert_eq!(stop_reason(&s, StopRules::default(), &r, 1), None);
        assert_eq!(s.press(), 1);
        assert!(!s.immediate(), "the first press lets the epoch finish");
        assert!(matches!(stop_reason(&s, StopRules::default(), &r, 1), Some(Stop::Interrupt(_))));
        assert_eq!(s.press(), 2);
        assert!(s.immediate());
    }
}
