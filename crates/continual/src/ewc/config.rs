//! EWC's keys and defaults.

use super::fisher::FisherEstimator;
use super::penalty::Convention;
use serde::{Deserialize, Serialize};

/// Separate EWC keeps one (importance, anchor) pair per finished task (memory grows with the
/// tasks); online EWC keeps one running importance and the latest anchor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EwcMode {
    #[default]
    Separate,
    Online,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EwcConfig {
    /// λ, the strength (no default: it depends on the convention, the estimator and the stream;
    /// Hsu et al.'s Split MNIST values are 100–600, Avalanche's Permuted MNIST baseline 1).
    pub lambda: f64,
    #[serde(default)]
    pub mode: EwcMode,
    /// γ of online EWC. Default 1 (van de Ven's default).
    #[serde(default = "one")]
    pub gamma: f64,
    /// Default `exact`, the spec's recommendation (van de Ven 2025: the best results).
    #[serde(default = "exact")]
    pub fisher: FisherEstimator,
    /// Examples for the per-example estimators: the first `samples` of the task's training set.
    /// Default 500 (van de Ven's EXACT(n) example); the exact estimator costs one backward
    /// pass per class and example.
    #[serde(default = "five_hundred")]
    pub samples: Option<usize>,
    /// Default `half` (`λ/2`, the paper); `avalanche` for Avalanche's λ values.
    #[serde(default)]
    pub convention: Convention,
}

fn one() -> f64 {
    1.0
}
fn exact() -> FisherEstimator {
    FisherEstimator::Exact
}
fn five_hundred() -> Option<usize> {
    Some(500)
}

impl EwcConfig {
    /// Values serde cannot check; the error names the key.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let bad = |key: &str, msg: String| Err((format!("ewc.{key}"), msg));
        if !(self.lambda.is_finite() && self.lambda >= 0.0) {
            return bad("lambda", format!("must be ≥ 0, got {}", self.lambda));
        }
        if !(self.gamma.is_finite() && self.gamma > 0.0 && self.gamma <= 1.0) {
            return bad("gamma", format!("must be in (0, 1], got {}", self.gamma));
        }
        if self.samples == Some(0) {
            return bad("samples", "must be at least 1".into());
        }
        Ok(())
    }
}
