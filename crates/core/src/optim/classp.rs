//! CLASSP, "Continual Learning through Adjustment Suppression and Sparsity Promotion"
//! (O. Ludwig, arXiv:2405.09637; official code oswaldoludwig/CLASSP@ea3fe3c, `CLASSP.py`).
//! Spec: ../shared/specs/continual.md §1.
//!
//! Per parameter, a state `S` (buffer `grad_sum`, the shape of the parameter, starting at 0)
//! accumulates gradient magnitudes; a coordinate moves only when its squared gradient passes a
//! threshold, by `lr·g / (ε + S)^(1/p)`:
//!
//! - `mode = "paper"` (default; the README's pseudocode with a per-element gate, spec §1.5):
//!   `m = g² > τ`, `S ← S + m·|g|^p` (the current gradient included, spec B4; only gated
//!   coordinates accumulate, B5), `w ← w − m·scale·g`, `scale = lr/(ε + S)^(1/p)` (ε inside the
//!   root, B3) or `lr` without `apply_scaling`.
//! - `mode = "reference"`: `CLASSP.py` exactly, bugs included: one gate per tensor,
//!   `float(any(g ≠ 0)) > τ` (B1: for 0 ≤ τ < 1 every coordinate of a tensor with any non-zero
//!   gradient moves), and `S ← S + |g|` whatever `p` (B2).

use super::update::{Step, device, host, pieces};
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// `[optimizer] kind = "classp"`. Defaults are `CLASSP.py`'s constructor defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClasspConfig {
    /// α. Default 0.2 (`CLASSP.py`: `lr=0.2`).
    #[serde(default = "lr")]
    pub lr: f64,
    /// τ on `g²`. Default per mode: `reference` 0.5 (`CLASSP.py`: `threshold=0.5`); `paper` 0,
    /// the gate `CLASSP.py` applies in effect with its 0.5 (spec B1: any non-zero gradient
    /// passes). A literal 0.5 on each element's `g²` would stop nearly every coordinate of a
    /// mean-loss gradient (the quickstart MLP does not train: 7 % test accuracy).
    #[serde(default)]
    pub threshold: Option<f32>,
    /// ε inside the root. Default 1e-5 (`CLASSP.py`: `epsilon=1e-5`).
    #[serde(default = "epsilon")]
    pub eps: f32,
    /// p. Default 1 (`CLASSP.py`: `power=1`).
    #[serde(default = "power")]
    pub power: f32,
    /// Scale the step by `1/(ε + S)^(1/p)`; without it the step is `lr·g` (and `S` still
    /// accumulates, spec B7). Default true (`CLASSP.py`: `apply_scaling=True`).
    #[serde(default = "yes")]
    pub apply_scaling: bool,
    #[serde(default)]
    pub mode: ClasspMode,
    /// L2 term added to the gradient before the gate (ours; CLASSP has none). Default 0.
    #[serde(default)]
    pub weight_decay: f32,
    #[serde(default)]
    pub decay_bias_and_norm: bool,
    #[serde(default)]
    pub grad_clip_norm: Option<f32>,
    /// Only `"plasticity"`: Burn has no CLASSP.
    #[serde(default)]
    pub implementation: super::Implementation,
}

/// Which CLASSP: the paper's per-element rule or the official code's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClasspMode {
    #[default]
    Paper,
    Reference,
}

fn lr() -> f64 {
    0.2
}
fn epsilon() -> f32 {
    1e-5
}
fn power() -> f32 {
    1.0
}
fn yes() -> bool {
    true
}

impl Default for ClasspConfig {
    fn default() -> Self {
        super::config::toml_default()
    }
}

impl ClasspConfig {
    /// τ, with the mode's default.
    pub fn threshold(&self) -> f32 {
        self.threshold.unwrap_or(match self.mode {
            ClasspMode::Paper => 0.0,
            ClasspMode::Reference => 0.5,
        })
    }

    /// Values serde cannot check; the error names the key.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let bad = |key: &str, msg: String| Err((format!("optimizer.{key}"), msg));
        let tau = self.threshold();
        if !(tau.is_finite() && tau >= 0.0) {
            return bad("threshold", format!("must be ≥ 0, got {tau}"));
        }
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return bad("eps", format!("must be a positive number, got {}", self.eps));
        }
        if !(self.power.is_finite() && self.power > 0.0) {
            return bad("power", format!("must be a positive number, got {}", self.power));
        }
        if self.implementation != super::Implementation::Plasticity {
            return bad("implementation", "must be \"plasticity\" for classp: Burn has no CLASSP".into());
        }
        Ok(())
    }

    /// The reference code's per-tensor gate: `float(any(g ≠ 0)) > τ`.
    fn tensor_gate(&self, any_nonzero: bool) -> bool {
        f32::from(u8::from(any_nonzero)) > self.threshold()
    }
}

/// CLASSP in place on host memory.
pub(crate) fn classp_host(c: &ClasspConfig, p: &mut [f32], g: &[f32], s: Step) {
    let n = p.len();
    let (lr, wd, tau, eps, power) = (s.lr as f32, s.weight_decay, c.threshold(), c.eps, c.power);
    let (scaling, root) = (c.apply_scaling, 1.0 / power);
    s.state.step += 1;
    let sum = host(s.state, "grad_sum", n);
    match c.mode {
        ClasspMode::Paper => pieces(p, g, [sum], |p, g, [sum]| {
            for ((p, &g), sum) in p.iter_mut().zip(g).zip(sum.iter_mut()) {
                let g = if wd != 0.0 { *p * wd + g } else { g };
                if g * g > tau {
                    *sum += if power == 1.0 { g.abs() } else { g.abs().powf(power) };
                    let scale = if scaling { lr / (eps + *sum).powf(root) } else { lr };
                    *p -= scale * g;
                }
            }
        }),
        ClasspMode::Reference => {
            let any_nonzero = g.iter().zip(p.iter()).any(|(&g, &p)| p * wd + g != 0.0);
            if !c.tensor_gate(any_nonzero) {
                return;
            }
            pieces(p, g, [sum], |p, g, [sum]| {
                for ((p, &g), sum) in p.iter_mut().zip(g).zip(sum.iter_mut()) {
                    let g = if wd != 0.0 { *p * wd + g } else { g };
                    *sum += g.abs();
                    let scale = if scaling { lr / (*sum + eps).powf(root) } else { lr };
                    *p -= scale * g;
                }
            });
        }
    }
}

/// CLASSP as tensor ops.
pub(crate) fn classp_device<const D: usize>(c: &ClasspConfig, p: Tensor<D>, g: Tensor<D>, s: Step) -> Tensor<D> {
    let shape = p.shape();
    let n = shape.num_elements();
    s.state.step += 1;
    let p1: Tensor<1> = p.reshape([n]);
    let mut g: Tensor<1> = g.reshape([n]);
    if s.weight_decay != 0.0 {
        g = p1.clone().mul_scalar(s.weight_decay).add(g);
    }
    let sum = device(s.state, "grad_sum", &g);
    let step = match c.mode {
        ClasspMode::Paper => {
            let gate = g.clone().square().greater_elem(c.threshold()).float();
            let magnitude = match c.power == 1.0 {
                true => g.clone().abs(),
                false => g.clone().abs().powf_scalar(c.power),
            };
            *sum = sum.clone().add(magnitude * gate.clone());
            g * gate
        }
        ClasspMode::Reference => {
            let any_nonzero = g.clone().abs().max().into_scalar::<f32>() > 0.0;
            if !c.tensor_gate(any_nonzero) {
                return p1.reshape(shape);
            }
            *sum = sum.clone().add(g.clone().abs());
            g
        }
    };
    let update = match c.apply_scaling {
        true => step / sum.clone().add_scalar(c.eps).powf_scalar(1.0 / c.power),
        false => step,
    };
    (p1 - update.mul_scalar(s.lr)).reshape(shape)
}
