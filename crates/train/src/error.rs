//! The crate's error type: each variant names the file, key or value involved and what was
//! expected, so the CLI can print it as one line.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A config file, or a `--set` override, that does not parse or has an invalid value.
    #[error("{origin}: {message}")]
    Config { origin: String, message: String },
    #[error(transparent)]
    Data(#[from] plasticity_data::DataError),
    #[error(transparent)]
    Model(#[from] plasticity_models::ModelError),
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
    #[error("checkpoint {path}: {message}")]
    Checkpoint { path: PathBuf, message: String },
    /// A device that is unknown, not compiled in, or cannot be used (the message names it).
    #[error("{0}")]
    Device(String),
    /// The run stopped: a NaN or infinite loss, a failed checkpoint write, a data error.
    #[error("{0}")]
    Run(String),
    /// Ctrl-C stopped the run after writing a checkpoint (the message says how to resume).
    #[error("{0}")]
    Interrupted(String),
}

impl TrainError {
    pub fn io(path: impl Into<PathBuf>, err: impl std::fmt::Display) -> Self {
        Self::Io {
            path: path.into(),
            message: err.to_string(),
        }
    }

    pub fn config(origin: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Config {
            origin: origin.into(),
            message: message.into(),
        }
    }
}

pub type Result<T, E = TrainError> = std::result::Result<T, E>;
