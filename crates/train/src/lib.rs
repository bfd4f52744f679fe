//! Training for plasticity: the `RunConfig` read from TOML, Burn's `SupervisedTraining` driven
//! through the [`Trainee`] wrapper, atomic checkpoints with bit-identical resume, and run
//! reports (`results.json`, `curves.png`).

pub mod artifacts;
pub mod checkpoint;
pub mod clip;
pub mod commands;
pub mod config;
pub mod datasets;
pub mod device;
pub mod error;
pub mod evaluate;
pub mod extension;
pub mod gate_report;
pub mod history;
pub mod load;
pub mod logging;
pub mod optim;
pub mod params;
pub mod peft;
pub mod plot;
pub mod progress;
pub mod renderer;
pub mod report;
pub mod runner;
pub mod stopper;
pub mod trainee;
pub mod validate;

/// The Burn version plasticity is built and tested against (pinned `=0.22.1`).
pub const BURN_VERSION: &str = "0.22.1";

pub use config::RunConfig;
pub use error::{Result, TrainError};
pub use extension::{Extensions, Penalty, StepRule};
pub use load::{load_config, parse_config};
pub use runner::{RunOptions, RunSummary, load_model_file, train, train_model, train_with};
pub use stopper::StopSignal;
pub use trainee::{TrainContext, Trainee};
