//! Continual learning over a stream of tasks (work in progress: the metrics of the accuracy
//! matrix; the stream runner comes next).

pub mod metrics;
pub mod stream;

pub use metrics::{AccuracyMatrix, StreamMetrics};
pub use stream::{Scenario, StreamConfig, StreamTask};
