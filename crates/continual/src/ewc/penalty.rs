//! The EWC penalty of one parameter and the online importance update.
//!
//! With importance `F` (the diagonal Fisher) and anchor `θ*` (the parameter at the end of a
//! task), the penalty while training later tasks is
//!
//! - [`Convention::Half`] (Kirkpatrick et al.; van de Ven's code): `λ/2 · Σ_i F_i (θ_i − θ*_i)²`,
//!   and for online EWC `λ/2 · Σ_i γ·F̃_i (θ_i − θ*_i)²`;
//! - [`Convention::Avalanche`] (Avalanche's `EWCPlugin`): `λ · Σ_i F_i (θ_i − θ*_i)²`, without
//!   the ½ and without the extra γ at use, so Avalanche's λ values carry over.
//!
//! Online EWC keeps one running importance, `F̃ ← γ·F̃ + F_new` ([`consolidate`]), and one anchor,
//! the parameter at the end of the latest task.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// Which constants multiply `Σ F (θ − θ*)²`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Convention {
    /// `λ/2`, and `γ·F̃` in online mode (the paper; van de Ven). Our default.
    #[default]
    Half,
    /// `λ`, and `F̃` as it is in online mode (Avalanche).
    Avalanche,
}

/// The importance and anchor of one parameter, flattened to `[n]`.
#[derive(Clone, Debug)]
pub struct Anchor {
    pub importance: Tensor<1>,
    pub theta_star: Tensor<1>,
}

impl Anchor {
    /// The penalty `[1]` of `theta` (`[n]`, differentiable), for strength `lambda`; `gamma` is
    /// online EWC's decay (`None` for separate EWC).
    pub fn penalty(&self, theta: Tensor<1>, lambda: f64, gamma: Option<f64>, convention: Convention) -> Tensor<1> {
        let scale = match (convention, gamma) {
            (Convention::Half, Some(g)) => lambda / 2.0 * g,
            (Convention::Half, None) => lambda / 2.0,
            (Convention::Avalanche, _) => lambda,
        };
        let diff = theta - self.theta_star.clone();
        (self.importance.clone() * diff.square()).sum().mul_scalar(scale)
    }
}

/// Online EWC's importance after a task: `F̃ ← γ·F̃ + F_new` (`F̃₀ = 0`).
pub fn consolidate(running: Option<Tensor<1>>, new: Tensor<1>, gamma: f64) -> Tensor<1> {
    match running {
        Some(f) => f.mul_scalar(gamma) + new,
        None => new,
    }
}
