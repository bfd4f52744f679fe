//! Companding functions `φ(u; θ)`, applied to a weight in units of its layer's scale:
//! `W = s·φ(w/s; θ)`. Each is odd, expands small weights (`φ'(0) > 1`) and compresses large ones
//! (bounded or sub-linear), as the Weight Compander paper's abstract requires (reparam-prune.md
//! §1; the paper's own formula is not public). The forms are the spec's three candidates; their
//! default `θ` give `φ'(0) = 2` each. A form of your own implements [`Companding`].

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// An odd companding function with positive parameters `θ`.
pub trait Companding: Send + Sync + std::fmt::Debug {
    /// Name in configs and reports.
    fn name(&self) -> &'static str;
    /// The names of `θ`, in order, with their defaults (all > 0).
    fn parameters(&self) -> Vec<(&'static str, f64)>;
    /// `φ(u; θ)` elementwise, `u: [n]`; `theta` holds one `[1]` tensor per parameter.
    fn forward(&self, u: Tensor<1>, theta: &[Tensor<1>]) -> Tensor<1>;
    /// `φ⁻¹(v; θ)`, used once at attach so that `f(w)` starts at the layer's usual init.
    fn inverse(&self, v: f64, theta: &[f64]) -> f64;
}

/// μ-law: `φ(u) = sign(u)·γ·ln(1 + |u|/β)`; default γ = 1, β = 0.5 (our default form).
#[derive(Clone, Copy, Debug)]
pub struct MuLaw;

impl Companding for MuLaw {
    fn name(&self) -> &'static str {
        "mu-law"
    }
    fn parameters(&self) -> Vec<(&'static str, f64)> {
        vec![("gamma", 1.0), ("beta", 0.5)]
    }
    fn forward(&self, u: Tensor<1>, theta: &[Tensor<1>]) -> Tensor<1> {
        let (gamma, beta) = (theta[0].clone(), theta[1].clone());
        // `ln(1 + x)` rather than `ln_1p(x)`: the same to f32 rounding of `W` (an absolute error
        // below 1e-7·γ), and flex's scalar `ln_1p` loop costs ~4x its `ln` (docs/reparam.md, Cost).
        u.clone().sign() * gamma * (u.abs() / beta).add_scalar(1.0).log()
    }
    fn inverse(&self, v: f64, theta: &[f64]) -> f64 {
        let (gamma, beta) = (theta[0], theta[1]);
        v.signum() * beta * ((v.abs() / gamma).exp() - 1.0)
    }
}

/// Saturating: `φ(u) = γ·u / (|u| + β)`, bounded by γ; default γ = 3, β = 1.5.
#[derive(Clone, Copy, Debug)]
pub struct Saturating;

impl Companding for Saturating {
    fn name(&self) -> &'static str {
        "saturating"
    }
    fn parameters(&self) -> Vec<(&'static str, f64)> {
        vec![("gamma", 3.0), ("beta", 1.5)]
    }
    fn forward(&self, u: Tensor<1>, theta: &[Tensor<1>]) -> Tensor<1> {
        let (gamma, beta) = (theta[0].clone(), theta[1].clone());
        u.clone() * gamma / (u.abs() + beta)
    }
    /// Values at or beyond the bound γ are taken at 0.999 999·γ.
    fn inverse(&self, v: f64, theta: &[f64]) -> f64 {
        let (gamma, beta) = (theta[0], theta[1]);
        let v = v.clamp(-gamma * (1.0 - 1e-6), gamma * (1.0 - 1e-6));
        beta * v / (gamma - v.abs())
    }
}

/// Power law: `φ(u) = sign(u)·((|u| + β)^α − β^α)`, sub-linear for 0 < α < 1; default α = 0.5,
/// β = 1/16.
#[derive(Clone, Copy, Debug)]
pub struct Power;

impl Companding for Power {
    fn name(&self) -> &'static str {
        "power"
    }
    fn parameters(&self) -> Vec<(&'static str, f64)> {
        vec![("alpha", 0.5), ("beta", 1.0 / 16.0)]
    }
    fn forward(&self, u: Tensor<1>, theta: &[Tensor<1>]) -> Tensor<1> {
        let (alpha, beta) = (theta[0].clone(), theta[1].clone());
        let n = u.dims()[0];
        let alpha_n = alpha.clone().expand([n]);
        let lifted = (u.clone().abs() + beta.clone()).powf(alpha_n);
        u.sign() * (lifted - beta.powf(alpha))
    }
    fn inverse(&self, v: f64, theta: &[f64]) -> f64 {
        let (alpha, beta) = (theta[0], theta[1]);
        v.signum() * ((v.abs() + beta.powf(alpha)).powf(1.0 / alpha) - beta)
    }
}

/// `[reparam] form = …`: which companding function.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CompanderForm {
    #[default]
    MuLaw,
    Saturating,
    Power,
}

impl CompanderForm {
    pub fn function(self) -> Arc<dyn Companding> {
        match self {
            Self::MuLaw => Arc::new(MuLaw),
            Self::Saturating => Arc::new(Saturating),
            Self::Power => Arc::new(Power),
        }
    }
}
