//! The compander reparameterization: `W = s·φ(w/s; θ)` elementwise, with `w` the stored weight,
//! `s` the layer's scale (the root mean square of its weights when attached, so that one `θ`
//! suits layers of every width) and `θ = exp(ln θ)` positive.

use super::function::Companding;
use burn::module::{Module, Param, Reparameterization};
use burn::tensor::Tensor;
use std::sync::Arc;

/// `ln θ` and the scale of one weight.
#[derive(Module, Debug)]
pub struct Compander {
    /// `ln θ`, `[k]`: trainable with `learn = true`, frozen otherwise.
    pub log_theta: Param<Tensor<1>>,
    /// The layer's scale `s`.
    pub scale: f64,
    #[module(skip)]
    pub function: Arc<dyn Companding>,
}

/// `W = s·φ(w/s; θ)` on a flattened weight `w: [n]`, with `θ = exp(log_theta)`.
pub fn compand(function: &dyn Companding, scale: f64, w: Tensor<1>, log_theta: Tensor<1>) -> Tensor<1> {
    let theta = log_theta.exp();
    let theta: Vec<Tensor<1>> = (0..theta.dims()[0]).map(|i| theta.clone().slice([i..i + 1])).collect();
    function.forward(w.div_scalar(scale), &theta).mul_scalar(scale)
}

impl Compander {
    /// `W = s·φ(w/s; θ)` for any shape.
    pub fn compand<const D: usize>(&self, w: Tensor<D>) -> Tensor<D> {
        let dims = w.dims();
        let n: usize = dims.iter().product();
        compand(self.function.as_ref(), self.scale, w.reshape([n]), self.log_theta.val()).reshape(dims)
    }
}

impl Reparameterization for Compander {
    const NAME: &'static str = "compander";

    fn apply<const D: usize>(&self, w: Tensor<D>) -> Tensor<D> {
        self.compand(w)
    }
}
