//! The `[optimizer]` table: tagged by `kind`, each kind with its own keys and defaults.
//! Defaults follow PyTorch's `torch.optim` (2.x), not Burn's (Burn's Adam ε is 1e-5, its SGD
//! dampening 0.1), so numbers compare with PyTorch scripts.

pub use super::classp::{ClasspConfig, ClasspMode};
use serde::{Deserialize, Serialize};

/// `[optimizer] kind = "sgd" | "adam" | "adamw" | "adagrad" | "classp"` and that kind's keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum OptimizerConfig {
    Sgd(SgdConfig),
    Adam(AdamConfig),
    Adamw(AdamWConfig),
    Adagrad(AdagradConfig),
    Classp(ClasspConfig),
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        Self::Adam(AdamConfig::default())
    }
}

/// Whose code performs the update.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Implementation {
    /// plasticity's own optimizers (the default): per-element state that methods can read,
    /// mask and reset; one fused pass over host memory on CPU backends.
    #[default]
    Plasticity,
    /// Burn's `burn::optim` optimizers, whose state is private: methods that need the
    /// optimizer's state refuse to run with them.
    Burn,
}

/// Keys every kind has. serde's `deny_unknown_fields` does not combine with `flatten`, so each
/// kind's struct repeats these fields (and Adam's and AdamW's their betas); [`OptimizerConfig::common`]
/// reads them back as one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Common {
    /// Peak learning rate (after warmup).
    pub lr: f64,
    /// L2 penalty for sgd and adam, decoupled decay for adamw.
    pub weight_decay: f32,
    /// Also decay biases and normalisation parameters (off by default, as in most recipes),
    /// and the parameters methods mark as not decayed.
    pub decay_bias_and_norm: bool,
    /// Clip the global L2 norm of all gradients to this value (PyTorch's `clip_grad_norm_`).
    pub grad_clip_norm: Option<f32>,
    pub implementation: Implementation,
}

/// `kind = "sgd"`: `torch.optim.SGD`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SgdConfig {
    /// Default 1e-3 (`torch.optim.SGD`).
    #[serde(default = "lr_1e3")]
    pub lr: f64,
    /// Momentum factor; 0 disables momentum.
    #[serde(default)]
    pub momentum: f64,
    /// Dampening of the momentum (PyTorch's default 0; Burn's is 0.1).
    #[serde(default)]
    pub dampening: f64,
    #[serde(default)]
    pub nesterov: bool,
    #[serde(default)]
    pub weight_decay: f32,
    #[serde(default)]
    pub decay_bias_and_norm: bool,
    #[serde(default)]
    pub grad_clip_norm: Option<f32>,
    #[serde(default)]
    pub implementation: Implementation,
}

/// `kind = "adam"`: `torch.optim.Adam` (weight decay as an L2 term in the gradient).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdamConfig {
    /// Default 1e-3 (`torch.optim.Adam`).
    #[serde(default = "lr_1e3")]
    pub lr: f64,
    #[serde(default = "beta1")]
    pub beta1: f32,
    #[serde(default = "beta2")]
    pub beta2: f32,
    /// Default 1e-8 (PyTorch; Burn's is 1e-5).
    #[serde(default = "eps")]
    pub eps: f32,
    #[serde(default)]
    pub weight_decay: f32,
    #[serde(default)]
    pub decay_bias_and_norm: bool,
    #[serde(default)]
    pub grad_clip_norm: Option<f32>,
    #[serde(default)]
    pub implementation: Implementation,
}

/// `kind = "adamw"`: `torch.optim.AdamW` (decoupled decay `w ← w − lr·wd·w`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdamWConfig {
    /// Default 1e-3 (`torch.optim.AdamW`).
    #[serde(default = "lr_1e3")]
    pub lr: f64,
    #[serde(default = "beta1")]
    pub beta1: f32,
    #[serde(default = "beta2")]
    pub beta2: f32,
    #[serde(default = "eps")]
    pub eps: f32,
    /// Default 0.01 (`torch.optim.AdamW`).
    #[serde(default = "wd_1e2")]
    pub weight_decay: f32,
    /// Decay only where the weight and the new first moment agree in sign (cautious weight
    /// decay, arXiv 2510.12402; Burn's `with_cautious_weight_decay`).
    #[serde(default)]
    pub cautious_weight_decay: bool,
    #[serde(default)]
    pub decay_bias_and_norm: bool,
    #[serde(default)]
    pub grad_clip_norm: Option<f32>,
    #[serde(default)]
    pub implementation: Implementation,
}

/// `kind = "adagrad"`: `torch.optim.Adagrad` (Duchi, Hazan & Singer, JMLR 2011), weight decay
/// as an L2 term in the gradient: `s ← s + g²`, `w ← w − lr/(1 + (t−1)·lr_decay) · g/(√s + ε)`.
/// The accumulator starts at 0 (PyTorch's `initial_accumulator_value` default; Burn's AdaGrad
/// has no other).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdagradConfig {
    /// Default 1e-2 (`torch.optim.Adagrad`).
    #[serde(default = "lr_1e2")]
    pub lr: f64,
    /// Learning-rate decay per step, `lr/(1 + (t−1)·lr_decay)` with `t` the parameter's step
    /// count (PyTorch and Burn); default 0.
    #[serde(default)]
    pub lr_decay: f64,
    /// Default 1e-10 (PyTorch; Burn's is 1e-5).
    #[serde(default = "eps_1e10")]
    pub eps: f32,
    #[serde(default)]
    pub weight_decay: f32,
    #[serde(default)]
    pub decay_bias_and_norm: bool,
    #[serde(default)]
    pub grad_clip_norm: Option<f32>,
    #[serde(default)]
    pub implementation: Implementation,
}

fn lr_1e2() -> f64 {
    1e-2
}
fn eps_1e10() -> f32 {
    1e-10
}
fn lr_1e3() -> f64 {
    1e-3
}
fn beta1() -> f32 {
    0.9
}
fn beta2() -> f32 {
    0.999
}
fn eps() -> f32 {
    1e-8
}
fn wd_1e2() -> f32 {
    0.01
}

impl Default for SgdConfig {
    fn default() -> Self {
        toml_default()
    }
}
impl Default for AdamConfig {
    fn default() -> Self {
        toml_default()
    }
}
impl Default for AdamWConfig {
    fn default() -> Self {
        toml_default()
    }
}
impl Default for AdagradConfig {
    fn default() -> Self {
        toml_default()
    }
}

/// The serde defaults: one source of truth for every default value.
pub(crate) fn toml_default<T: serde::de::DeserializeOwned>() -> T {
    serde_json::from_value(serde_json::json!({})).unwrap_or_else(|_| unreachable!("every field has a default"))
}

impl OptimizerConfig {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Sgd(_) => "sgd",
            Self::Adam(_) => "adam",
            Self::Adamw(_) => "adamw",
            Self::Adagrad(_) => "adagrad",
            Self::Classp(_) => "classp",
        }
    }

    /// The keys every kind has.
    pub fn common(&self) -> Common {
        macro_rules! common {
            ($c:expr) => {
                Common {
                    lr: $c.lr,
                    weight_decay: $c.weight_decay,
                    decay_bias_and_norm: $c.decay_bias_and_norm,
                    grad_clip_norm: $c.grad_clip_norm,
                    implementation: $c.implementation,
                }
            };
        }
        match self {
            Self::Sgd(c) => common!(c),
            Self::Adam(c) => common!(c),
            Self::Adamw(c) => common!(c),
            Self::Adagrad(c) => common!(c),
            Self::Classp(c) => common!(c),
        }
    }

    pub fn lr(&self) -> f64 {
        self.common().lr
    }

    /// Values serde cannot check: positive learning rate, betas in [0, 1), and so on. The
    /// error names the key.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let bad = |key: &str, msg: String| Err((format!("optimizer.{key}"), msg));
        let c = self.common();
        if !(c.lr.is_finite() && c.lr > 0.0) {
            return bad("lr", format!("must be a positive number, got {}", c.lr));
        }
        if !(c.weight_decay.is_finite() && c.weight_decay >= 0.0) {
            return bad("weight_decay", format!("must be ≥ 0, got {}", c.weight_decay));
        }
        if let Some(n) = c.grad_clip_norm
            && !(n.is_finite() && n > 0.0)
        {
            return bad("grad_clip_norm", format!("must be a positive number, got {n}"));
        }
        let betas = match self {
            Self::Sgd(s) => {
                if !(0.0..1.0).contains(&s.momentum) {
                    return bad("momentum", format!("must be in [0, 1), got {}", s.momentum));
                }
                if !(0.0..=1.0).contains(&s.dampening) {
                    return bad("dampening", format!("must be in [0, 1], got {}", s.dampening));
                }
                if s.nesterov && (s.momentum == 0.0 || s.dampening != 0.0) {
                    return bad(
                        "nesterov",
                        "needs momentum > 0 and dampening = 0 (as torch.optim.SGD)".into(),
                    );
                }
                return Ok(());
            }
            Self::Adam(a) => (a.beta1, a.beta2, a.eps),
            Self::Adamw(a) => (a.beta1, a.beta2, a.eps),
            Self::Adagrad(a) => {
                if !(a.lr_decay.is_finite() && a.lr_decay >= 0.0) {
                    return bad("lr_decay", format!("must be ≥ 0, got {}", a.lr_decay));
                }
                if !(a.eps.is_finite() && a.eps > 0.0) {
                    return bad("eps", format!("must be a positive number, got {}", a.eps));
                }
                return Ok(());
            }
            Self::Classp(c) => return c.validate(),
        };
        for (key, beta) in [("beta1", betas.0), ("beta2", betas.1)] {
            if !(0.0..1.0).contains(&beta) {
                return bad(key, format!("must be in [0, 1), got {beta}"));
            }
        }
        if !(betas.2.is_finite() && betas.2 > 0.0) {
            return bad("eps", format!("must be a positive number, got {}", betas.2));
        }
        Ok(())
    }
}
