//! Per-epoch loss and accuracy, accumulated by the training and validation steps themselves
//! (one host read per batch, which the NaN check needs anyway), and saved with each checkpoint
//! so that a resumed run reports every epoch.

pub use plasticity_core::SplitSums;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Instant;

/// One epoch as reported in `results.json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: usize,
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub valid_loss: f64,
    pub valid_accuracy: f64,
    pub train_examples: u64,
    /// Wall time of the training split.
    pub train_seconds: f64,
    pub learning_rate: f64,
}

#[derive(Debug, Default)]
struct EpochSums {
    train: SplitSums,
    valid: SplitSums,
    train_started: Option<Instant>,
    train_seconds: f64,
    learning_rate: f64,
}

/// Accumulates [`SplitSums`] by epoch; restored from `history-<epoch>.json` on resume.
#[derive(Debug, Default)]
pub struct History {
    done: BTreeMap<usize, EpochRecord>,
    open: BTreeMap<usize, EpochSums>,
}

impl History {
    pub fn from_records(records: Vec<EpochRecord>) -> Self {
        Self {
            done: records.into_iter().map(|r| (r.epoch, r)).collect(),
            open: BTreeMap::new(),
        }
    }

    pub fn add_train(&mut self, epoch: usize, loss: f64, correct: u64, examples: u64, lr: f64) {
        let sums = self.open.entry(epoch).or_default();
        let now = Instant::now();
        let started = *sums.train_started.get_or_insert(now);
        sums.train.add(loss, correct, examples);
        sums.train_seconds = now.duration_since(started).as_secs_f64();
        sums.learning_rate = lr;
    }

    pub fn add_valid(&mut self, epoch: usize, loss: f64, correct: u64, examples: u64) {
        self.open.entry(epoch).or_default().valid.add(loss, correct, examples);
    }

    /// Marks the first training batch's start time (so an epoch's time covers its first batch).
    pub fn start_train(&mut self, epoch: usize) {
        self.open
            .entry(epoch)
            .or_default()
            .train_started
            .get_or_insert_with(Instant::now);
    }

    /// Every epoch up to and including `last`, finished ones first.
    pub fn records_until(&self, last: usize) -> Vec<EpochRecord> {
        let mut out: BTreeMap<usize, EpochRecord> = self.done.range(..=last).map(|(k, v)| (*k, v.clone())).collect();
        for (&epoch, sums) in self.open.range(..=last) {
            out.insert(
                epoch,
                EpochRecord {
                    epoch,
                    train_loss: sums.train.loss(),
                    train_accuracy: sums.train.accuracy(),
                    valid_loss: sums.valid.loss(),
                    valid_accuracy: sums.valid.accuracy(),
                    train_examples: sums.train.examples,
                    train_seconds: sums.train_seconds,
                    learning_rate: sums.learning_rate,
                },
            );
        }
        out.into_values().collect()
    }

    pub fn record(&self, epoch: usize) -> Option<EpochRecord> {
        self.records_until(epoch).into_iter().find(|r| r.epoch == epoch)
    }
}
