//! `TauGateConfig` (peft.md §1.3; every default here is a [proposal] of that spec: the paper,
//! arXiv 2602.11726, publishes no code and its method section was not available).

use serde::{Deserialize, Serialize};

/// A geometric sharpness schedule `s(t) = start · (end/start)^(t/(T−1))` over `T` steps
/// (peft.md §1.3 item 3, e.g. 1 → 50), applied before hardening.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnnealConfig {
    pub start: f64,
    pub end: f64,
}

/// TauGate: per-neuron threshold τ and gain γ on a frozen model's hidden layers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TauGateConfig {
    /// `s` in `σ(s·(z − τ))`. Default 10 (peft.md §1.3 item 3: "s = 10 on standardised pre-activations").
    #[serde(default = "default_sharpness")]
    pub sharpness: f64,
    /// `c` in the initial threshold `τ = −c/s`, which makes the gate ≈ 1 wherever a ReLU unit fires
    /// (σ(c) at z = 0). Default 10: σ(10) = 1 − 4.5e-5.
    #[serde(default = "default_init_margin")]
    pub init_margin: f64,
    /// Optional sharpness schedule; when set, `sharpness` is used only for the initial threshold.
    #[serde(default)]
    pub anneal: Option<AnnealConfig>,
}

fn default_sharpness() -> f64 {
    10.0
}

fn default_init_margin() -> f64 {
    10.0
}

impl Default for TauGateConfig {
    fn default() -> Self {
        Self {
            sharpness: default_sharpness(),
            init_margin: default_init_margin(),
            anneal: None,
        }
    }
}

impl TauGateConfig {
    /// The sharpness at `step` of `total_steps` (constant without a schedule).
    pub fn sharpness_at(&self, step: usize, total_steps: usize) -> f64 {
        match &self.anneal {
            None => self.sharpness,
            Some(AnnealConfig { start, end }) => {
                let progress = if total_steps <= 1 {
                    1.0
                } else {
                    step.min(total_steps - 1) as f64 / (total_steps - 1) as f64
                };
                start * (end / start).powf(progress)
            }
        }
    }

    /// Checks every value; names the key on error.
    pub fn validate(&self) -> Result<(), crate::PeftError> {
        let mut checks = vec![
            ("sharpness", self.sharpness, self.sharpness > 0.0),
            ("init_margin", self.init_margin, self.init_margin >= 0.0),
        ];
        if let Some(anneal) = &self.anneal {
            checks.push(("anneal.start", anneal.start, anneal.start > 0.0));
            checks.push(("anneal.end", anneal.end, anneal.end > 0.0));
        }
        match checks.into_iter().find(|(_, value, ok)| !ok || !value.is_finite()) {
            None => Ok(()),
            Some((key, value, _)) => Err(crate::PeftError::Config {
                method: "TauGate",
                key,
                value: value.to_string(),
                reason: "must be finite and positive (init_margin may be 0)".into(),
            }),
        }
    }
}
