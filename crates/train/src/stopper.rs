//! When a run stops early: patience on the validation loss, and Ctrl-C.
//!
//! Both are checked by Burn after the epoch's checkpoint is written, so a stop never loses a
//! finished epoch. A first Ctrl-C finishes the current epoch and its checkpoint; a second one
//! stops at once (the run then resumes from the previous checkpoint).

use crate::trainee::TrainContext;
use burn::train::metric::store::EventStoreClient;
use burn::train::{EarlyStoppingStrategy, Interrupter};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Shared between the Ctrl-C handler and the training loop.
#[derive(Clone, Default)]
pub struct StopSignal {
    presses: Arc<AtomicUsize>,
    interrupter: Arc<std::sync::Mutex<Option<Interrupter>>>,
}

impl std::fmt::Debug for StopSignal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StopSignal").field("presses", &self.presses).finish()
    }
}

impl StopSignal {
    pub fn new() -> Self {
        Self::default()
    }

    /// Called from a signal handler: first press asks for a stop after the epoch, second stops now.
    pub fn press(&self) -> usize {
        let presses = self.presses.fetch_add(1, Ordering::SeqCst) + 1;
        if presses >= 2
            && let Ok(slot) = self.interrupter.lock()
            && let Some(interrupter) = slot.as_ref()
        {
            interrupter.stop(Some("stopped by a second Ctrl-C"));
        }
        presses
    }

    pub fn requested(&self) -> bool {
        self.presses.load(Ordering::SeqCst) > 0
    }

    pub(crate) fn attach(&self, interrupter: Interrupter) {
        if let Ok(mut slot) = self.interrupter.lock() {
            *slot = Some(interrupter);
        }
    }
}

/// Burn's early-stopping hook, driven by our own per-epoch history.
#[derive(Clone)]
pub struct RunStopper {
    pub ctx: Arc<TrainContext>,
    pub patience: Option<usize>,
    pub signal: StopSignal,
}

impl EarlyStoppingStrategy for RunStopper {
    fn should_stop(&mut self, epoch: usize, _store: &EventStoreClient) -> bool {
        self.stop_after(epoch)
    }
}

impl RunStopper {
    /// Whether to stop after `epoch` (its checkpoint is already written).
    pub fn stop_after(&self, epoch: usize) -> bool {
        if self.signal.requested() {
            tracing::info!("stopping after epoch {epoch} as asked (Ctrl-C); resume with --resume");
            return true;
        }
        let Some(patience) = self.patience else { return false };
        let Ok(history) = self.ctx.history.lock() else {
            return false;
        };
        let records = history.records_until(epoch);
        let best = records
            .iter()
            .filter(|r| r.valid_loss.is_finite())
            .min_by(|a, b| a.valid_loss.total_cmp(&b.valid_loss))
            .map(|r| r.epoch);
        match best {
            Some(best) if epoch >= best + patience => {
                tracing::info!("early stopping: no better validation loss since epoch {best} ({patience} epochs)");
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extension::Extensions;
    use crate::history::History;

    fn stopper(losses: &[f64], patience: Option<usize>) -> RunStopper {
        let mut history = History::default();
        for (i, &loss) in losses.iter().enumerate() {
            history.add_valid(i + 1, loss, 0, 1);
        }
        let ctx = TrainContext::new(1, None, history, Interrupter::new(), Extensions::<()>::default());
        RunStopper {
            ctx: Arc::new(ctx),
            patience,
            signal: StopSignal::new(),
        }
    }

    #[test]
    fn patience_counts_epochs_since_the_best_validation_loss() {
        let losses = [1.0, 0.5, 0.6, 0.7, 0.4];
        let s = stopper(&losses, Some(2));
        let stops: Vec<bool> = (1..=losses.len()).map(|e| s.stop_after(e)).collect();
        // best at epoch 2; epoch 4 is two epochs later.
        assert_eq!(stops, [false, false, false, true, false]);
        let never = stopper(&losses, None);
        assert!(!(1..=5).any(|e| never.stop_after(e)));
    }

    #[test]
    fn first_ctrl_c_stops_after_the_epoch_second_interrupts() {
        let s = stopper(&[1.0], None);
        let interrupter = Interrupter::new();
        s.signal.attach(interrupter.clone());
        assert!(!s.stop_after(1));
        assert_eq!(s.signal.press(), 1);
        assert!(!interrupter.should_stop(), "the first press lets the epoch finish");
        assert!(s.stop_after(1));
        assert_eq!(s.signal.press(), 2);
        assert!(interrupter.should_stop());
    }
}
