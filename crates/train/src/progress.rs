//! Progress output: one line per epoch on stdout (unless quiet) and in the run log.

use crate::history::EpochRecord;

/// `epoch 3/10  train loss 0.1234 acc 96.12%  valid loss 0.0987 acc 97.02%  (4.1 s, 41000 ex/s)`.
pub fn epoch_line(r: &EpochRecord, total_epochs: usize) -> String {
    format!(
        "epoch {}/{}  train loss {:.4} acc {:.2}%  valid loss {:.4} acc {:.2}%  ({:.1} s, {:.0} ex/s)",
        r.epoch,
        total_epochs,
        r.train_loss,
        100.0 * r.train_accuracy,
        r.valid_loss,
        100.0 * r.valid_accuracy,
        r.train_seconds,
        r.train_examples as f64 / r.train_seconds.max(1e-9)
    )
}

/// Logs the epoch's line, and prints it unless `quiet`.
pub fn report_epoch(r: &EpochRecord, total_epochs: usize, quiet: bool) {
    let line = epoch_line(r, total_epochs);
    tracing::info!(target: "plasticity::progress", "{line}");
    if !quiet {
        println!("{line}");
    }
}
