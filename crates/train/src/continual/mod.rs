//! Continual learning over a stream of tasks (work in progress: the metrics of the accuracy
//! matrix; the stream runner comes next).

pub mod metrics;
pub mod plots;
pub mod runner;
pub mod stream;

pub use metrics::{AccuracyMatrix, StreamMetrics};
pub use runner::{ContinualConfig, StreamSummary, train_stream};
pub use stream::{Scenario, StreamConfig, StreamTask};
