//! Training for plasticity: the `RunConfig` read from TOML, the training loop of one task
//! ([`task::train_task`]) driven through the Method API, checkpoints with checksums and
//! bit-identical resume, and run reports (`results.json`, `curves.png`).

pub mod artifacts;
pub mod checkpoint;
pub mod clip;
pub mod commands;
pub mod config;
pub mod continual;
pub mod datasets;
pub mod device;
pub mod error;
pub mod history;
pub mod inputs;
pub mod load;
pub mod logging;
pub mod optim;
pub mod params;
pub mod progress;
pub mod prune;
pub mod report;
pub mod runner;
pub mod stopper;
pub mod task;
pub mod trainee;
pub mod validate;

/// The Burn version plasticity is built and tested against (pinned `=0.22.1`).
pub const BURN_VERSION: &str = "0.22.1";

pub use artifacts::{load_model_file, load_partial_file, load_run};
pub use config::RunConfig;
pub use error::{Result, TrainError};
pub use load::{load_config, parse_config};
pub use runner::{Extensions, RunOptions, RunSummary, run_model, train, train_on, train_with};
pub use stopper::StopSignal;
pub use task::{EpochEnd, Flow, TaskEnd, TaskSpec, TrainState, train_task};
pub use trainee::{Methods, Trainee};
