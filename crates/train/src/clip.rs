//! Global-norm gradient clipping, as PyTorch's `clip_grad_norm_`: all gradients are scaled by
//! `min(1, max_norm / (‖g‖₂ + 1e-6))`, where ‖g‖₂ is the norm over every parameter together.
//! Burn's `GradientClipping::Norm` clips each tensor separately, which is a different rule.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

struct SquaredNorm<'a> {
    grads: &'a GradientsParams,
    total: Option<Tensor<1>>,
}

impl ModuleVisitor for SquaredNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.get::<D>(param.id) {
            let sq = grad.powi_scalar(2).sum();
            self.total = Some(match self.total.take() {
                Some(t) => t + sq,
                None => sq,
            });
        }
    }
}

struct Scale<'a> {
    grads: &'a mut GradientsParams,
    factor: f64,
}

impl ModuleVisitor for Scale<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.remove::<D>(param.id) {
            self.grads.register(param.id, grad.mul_scalar(self.factor));
        }
    }
}

/// The global L2 norm of `grads` over `module`'s parameters.
pub fn global_norm<M: Module>(module: &M, grads: &GradientsParams) -> f64 {
    let mut visitor = SquaredNorm { grads, total: None };
    module.visit(&mut visitor);
    visitor.total.map_or(0.0, |t| (t.into_scalar::<f64>()).sqrt())
}

/// Scales `grads` so that their global norm is at most `max_norm`.
pub fn clip_global_norm<M: Module>(module: &M, mut grads: GradientsParams, max_norm: f32) -> GradientsParams {
    let norm = global_norm(module, &grads);
    let factor = max_norm as f64 / (norm + 1e-6);
    if factor < 1.0 {
        module.visit(&mut Scale {
            grads: &mut grads,
            factor,
        });
    }
    grads
}
