//! Progress output. On a terminal (with the `tui` feature) Burn's TUI dashboard; otherwise one
//! plain line per epoch from the run's own history, instead of Burn's per-iteration debug lines.

use crate::trainee::TrainContext;
use burn::train::logger::{EvaluationProgressLogger, TrainingProgressLogger};
use burn::train::metric::MetricDefinition;
use burn::train::renderer::{
    EvaluationName, MetricState, MetricsRenderer, MetricsRendererEvaluation, MetricsRendererTraining,
};
use std::sync::Arc;

/// Prints `epoch 3/10  train loss 0.1234 acc 96.12%  valid loss 0.0987 acc 97.02%  (4.1 s)`.
pub struct PlainRenderer {
    ctx: Arc<TrainContext>,
    total_epochs: usize,
    epoch: usize,
    quiet: bool,
}

impl PlainRenderer {
    pub fn new(ctx: Arc<TrainContext>, quiet: bool) -> Self {
        Self {
            ctx,
            total_epochs: 0,
            epoch: 0,
            quiet,
        }
    }

    fn print_epoch(&self, epoch: usize) {
        let Ok(history) = self.ctx.history.lock() else { return };
        let Some(r) = history.record(epoch) else { return };
        let line = format!(
            "epoch {}/{}  train loss {:.4} acc {:.2}%  valid loss {:.4} acc {:.2}%  ({:.1} s, {:.0} ex/s)",
            r.epoch,
            self.total_epochs,
            r.train_loss,
            100.0 * r.train_accuracy,
            r.valid_loss,
            100.0 * r.valid_accuracy,
            r.train_seconds,
            r.train_examples as f64 / r.train_seconds.max(1e-9)
        );
        tracing::info!(target: "plasticity::progress", "{line}");
        if !self.quiet {
            println!("{line}");
        }
    }
}

impl MetricsRendererTraining for PlainRenderer {
    fn update_train(&mut self, _state: MetricState) {}
    fn update_valid(&mut self, _state: MetricState) {}
}

impl MetricsRendererEvaluation for PlainRenderer {
    fn update_test(&mut self, _name: EvaluationName, _state: MetricState) {}
}

impl TrainingProgressLogger for PlainRenderer {
    fn start(&mut self, total_epochs: usize, starting_epoch: usize, _items: Option<usize>, _label: Option<&str>) {
        self.total_epochs = total_epochs;
        self.epoch = starting_epoch;
        if !self.quiet && starting_epoch > 1 {
            println!("resuming at epoch {starting_epoch}/{total_epochs}");
        }
    }
    fn update_epoch(&mut self, epoch: usize) {
        self.print_epoch(epoch);
    }
    fn start_split(&mut self, _split: &str, _total_items: usize) {}
    fn update_split(&mut self, _items_processed: usize) {}
    fn end_split(&mut self) {}
    fn end(&mut self) {}
    fn log_event_training(&mut self, event: String) {
        tracing::debug!("{event}");
    }
}

impl EvaluationProgressLogger for PlainRenderer {
    fn start_global_progress(&mut self, _total_tests: usize) {}
    fn start_test(&mut self, _name: &str, _total_items: usize) {}
    fn update_test_progress(&mut self, _items_processed: usize) {}
    fn end_test(&mut self) {}
    fn end_global_progress(&mut self) {}
    fn log_event_evaluation(&mut self, event: String) {
        tracing::debug!("{event}");
    }
}

impl MetricsRenderer for PlainRenderer {
    fn manual_close(&mut self) {}
    fn register_metric(&mut self, _definition: MetricDefinition) {}
}
