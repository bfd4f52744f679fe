//! When a run stops early: patience on the validation loss, and Ctrl-C.
//!
//! Both are checked by Burn after the epoch's checkpoint is written, so a stop never loses a
//! finished epoch. A first Ctrl-C finishes the current epoch and its checkpoint; a second one
//! stops at once (the run then resumes from the previous checkpoint).

use crate::trainee::TrainContext;
use burn::train::metric::store::EventStoreClient;
use burn::train::{EarlyStoppingStrategy, Interrupter};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

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
        if self.signal.requested() {
            tracing::info!("stopping after epoch {epoch} as asked (Ctrl-C); resume with --resume");
            return true;
        }
        let Some(patience) = self.patience else { return false };
        let Ok(history) = self.ctx.history.lock() else { return false };
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
