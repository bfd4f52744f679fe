//! Continual learning over a stream of tasks: the streams, the runner (`plasticity continual`),
//! its layouts and progress file, the accuracy matrix and its metrics, the plots.

pub mod layout;
pub mod metrics;
pub mod plots;
pub mod progress;
pub mod source;
pub mod runner;
pub mod stream;

pub use metrics::{AccuracyMatrix, StreamMetrics};
pub use layout::Layout;
pub use runner::{ContinualConfig, StreamSummary, train_stream};
pub use stream::{Scenario, StreamConfig, StreamTask};
