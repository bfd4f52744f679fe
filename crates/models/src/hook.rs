//! The trait a model implements to train through plasticity, and the activation hook that
//! activation-space methods (TauGate, continual backprop) use.

use crate::Activation;
use burn::module::{Module, ModuleDisplay};
use burn::tensor::Tensor;

/// One hidden layer a model exposes: its pre-activation `z` has shape `[batch, width]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InsertionPoint {
    /// Module path of the layer that produces `z` (for example `hidden.0`).
    pub name: String,
    /// Number of units.
    pub width: usize,
}

/// Called by a model at each insertion point in place of `activation.apply(z)`.
///
/// `point` indexes [`PlasticModel::insertion_points`]; `pre_activation` is `z: [batch, width]`.
/// The hook returns the layer's output `h: [batch, width]`; the identity hook returns `φ(z)`.
pub trait ActivationHook {
    fn activate(&self, point: usize, pre_activation: Tensor<2>, activation: Activation) -> Tensor<2>;

    /// Called by a model right after each Linear layer listed in
    /// [`PlasticModel::linear_points`]: `point` indexes that list, `input` is the layer's input
    /// `x: [batch, d_in]` and `output` its result `y = x·W + b: [batch, d_out]`. Returns the `y`
    /// the model continues with; the default keeps it. LoRA dropout uses this to drop the
    /// adapter branch's input, which a weight reparameterization cannot see.
    fn linear(&self, _point: usize, _input: Tensor<2>, output: Tensor<2>) -> Tensor<2> {
        output
    }
}

/// The identity hook: `h = φ(z)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoHook;

impl ActivationHook for NoHook {
    fn activate(&self, _point: usize, pre_activation: Tensor<2>, activation: Activation) -> Tensor<2> {
        activation.apply(pre_activation)
    }
}

/// A classifier that plasticity can train, evaluate, adapt and prune.
///
/// Implement [`forward_hooked`](Self::forward_hooked) (and, to support activation-space methods,
/// [`insertion_points`](Self::insertion_points)); everything else has a default. Weight-space
/// methods (LoRA, MiSS, IA3, pruning, reparameterizations) need nothing more: they attach to the
/// model's parameters by path.
pub trait PlasticModel: Module + ModuleDisplay + core::fmt::Display + 'static {
    /// `[batch, features] -> [batch, classes]` logits. At every hidden layer listed in
    /// `insertion_points`, call `hook.activate(i, z, activation)` instead of `activation.apply(z)`;
    /// after every Linear layer listed in `linear_points`, continue with `hook.linear(j, x, y)`.
    fn forward_hooked(&self, input: Tensor<2>, hook: &dyn ActivationHook) -> Tensor<2>;

    /// `[batch, features] -> [batch, classes]` logits, with no hook.
    fn forward(&self, input: Tensor<2>) -> Tensor<2> {
        self.forward_hooked(input, &NoHook)
    }

    /// The hidden layers whose pre-activations go through the hook, in call order.
    fn insertion_points(&self) -> Vec<InsertionPoint> {
        Vec::new()
    }

    /// Module paths of the Linear layers whose input and output go through
    /// [`ActivationHook::linear`], in call order (for example `hidden.0`, …, `output`).
    fn linear_points(&self) -> Vec<String> {
        Vec::new()
    }
}
