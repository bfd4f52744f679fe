//! Continual backprop's keys and defaults. The defaults are those of the official experiment
//! configs (spec continual.md §3.2: `lop/permuted_mnist/cfg/cbp.json`), not the `GnT` class
//! defaults (maturity 20, replacement rate 1e-4, accumulate false) nor the `cbp.py` wrapper's
//! (replacement rate 1e-3, decay 0.9, maturity 100), which disagree.

use serde::{Deserialize, Serialize};

/// What a unit's utility measures (gnt.py `util_type`); `u` is a running average of it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UtilityKind {
    /// `out_mag · mean|h|` (the Nature paper's equation, with gnt.py's mean over outgoing weights).
    Contribution,
    /// `out_mag · mean|h − f̂|`.
    ZeroContribution,
    /// `out_mag · mean|h − f̂| / in_mag` (every shipped config).
    #[default]
    AdaptableContribution,
    /// `out_mag`.
    Weight,
    /// `1 / in_mag`.
    Adaptation,
    /// `U(0, 1)`, from the method's seeded host stream.
    Random,
}

/// The distribution new incoming weights are drawn from: `U(−b, b)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InitBound {
    /// `b = √(1 / fan_in)`: Burn's Linear and Conv2d default (Kaiming uniform with gain 1/√3),
    /// which our MLP and CNN are initialised with; also gnt.py's `'default'` and convGnT's bound.
    #[default]
    Default,
    /// `b = √(6 / fan_in)`: Kaiming uniform for ReLU, the official DeepFFNN's init.
    Kaiming,
}

/// `[cbp]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CbpConfig {
    /// ρ, units replaced per eligible unit and step. Default 1e-4 (cfg/cbp.json's sweep is
    /// {1e-4, 1e-5, 1e-6}; its first value).
    #[serde(default = "rate")]
    pub replacement_rate: f64,
    /// η, the utility's and the mean activation's decay. Default 0.99 (every config; the paper).
    #[serde(default = "decay")]
    pub decay_rate: f64,
    /// m: a unit is eligible when its age is strictly above it. Default 100 (the effective value
    /// of the permuted-MNIST script, which reads `maturity_threshold`; spec §3.2).
    #[serde(default = "maturity")]
    pub maturity_threshold: u64,
    #[serde(default)]
    pub utility: UtilityKind,
    /// Accumulate the fractional replacement count across steps (default true, the configs');
    /// false: `floor(ρ·|E|)`, or one unit with probability `ρ·|E|` when that is below 1.
    #[serde(default = "yes")]
    pub accumulate: bool,
    #[serde(default)]
    pub init: InitBound,
    /// Insertion points (hidden layers) to apply to, by module path. Default: every one.
    #[serde(default)]
    pub layers: Option<Vec<String>>,
}

fn rate() -> f64 {
    1e-4
}
fn decay() -> f64 {
    0.99
}
fn maturity() -> u64 {
    100
}
fn yes() -> bool {
    true
}

impl Default for CbpConfig {
    fn default() -> Self {
        Self {
            replacement_rate: rate(),
            decay_rate: decay(),
            maturity_threshold: maturity(),
            utility: UtilityKind::default(),
            accumulate: true,
            init: InitBound::default(),
            layers: None,
        }
    }
}

impl CbpConfig {
    /// Values serde cannot check; the error names the key.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let bad = |key: &str, msg: String| Err((format!("cbp.{key}"), msg));
        if !(self.replacement_rate.is_finite() && (0.0..=1.0).contains(&self.replacement_rate)) {
            return bad("replacement_rate", format!("must be in [0, 1], got {}", self.replacement_rate));
        }
        if !(self.decay_rate.is_finite() && self.decay_rate > 0.0 && self.decay_rate < 1.0) {
            return bad("decay_rate", format!("must be in (0, 1), got {}", self.decay_rate));
        }
        if self.layers.as_ref().is_some_and(|l| l.is_empty()) {
            return bad("layers", "an empty list replaces nothing; remove the key for every hidden layer".into());
        }
        Ok(())
    }
}
