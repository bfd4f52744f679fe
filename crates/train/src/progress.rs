//! Chooses the progress display: Burn's TUI on a terminal (feature `tui`), plain lines otherwise.

use crate::renderer::PlainRenderer;
use crate::trainee::{TrainContext, Trainee};
use burn::train::SupervisedTraining;
use plasticity_models::PlasticModel;
use std::sync::Arc;

pub fn attach_renderer<M: PlasticModel>(
    training: SupervisedTraining<Trainee<M>>,
    ctx: Arc<TrainContext>,
    resume_epoch: Option<usize>,
    quiet: bool,
) -> SupervisedTraining<Trainee<M>> {
    #[cfg(feature = "tui")]
    {
        use std::io::IsTerminal;
        if !quiet && std::io::stdout().is_terminal() {
            use burn::train::metric::{AccuracyMetric, LossMetric};
            let renderer = burn::train::renderer::default_renderer(training.interrupter(), resume_epoch);
            return training
                .renderer(renderer)
                .metric_train_numeric(LossMetric::new())
                .metric_valid_numeric(LossMetric::new())
                .metric_train_numeric(AccuracyMetric::new())
                .metric_valid_numeric(AccuracyMetric::new());
        }
    }
    let _ = resume_epoch;
    training.renderer(Box::new(PlainRenderer::new(ctx, quiet)))
}
