//! The trait a model implements to train through plasticity.

use crate::{Hooks, Input, InsertionPoint};
use burn::module::{Module, ModuleDisplay};
use burn::tensor::Tensor;

/// A classifier that plasticity can train, evaluate, adapt and prune: any Burn module.
///
/// Implement [`forward_hooked`](Self::forward_hooked); to support activation-space methods
/// (TauGate, continual backprop, observers) also list [`insertion_points`](Self::insertion_points),
/// and to let hooks see or replace Linear layers, [`linear_points`](Self::linear_points).
/// Weight-space methods (LoRA, MiSS, IA3, pruning, reparameterizations) need nothing more:
/// they attach to the model's parameters by path.
pub trait PlasticModel: Module + ModuleDisplay + core::fmt::Display + 'static {
    /// What one batch of the model's input is: `Tensor<2>` (`[batch, features]`) for images,
    /// [`Tokens`](crate::Tokens) for sequences.
    type Input: Input;

    /// `input -> [batch, classes]` logits. At every hidden layer listed in `insertion_points`,
    /// call `hooks.activate(i, z, activation)` (or `activate_seq` / `activate_map`) instead of
    /// `activation.apply(z)`; at every Linear layer listed in `linear_points`, call
    /// `hooks.linear(j, &layer, x)` instead of `layer.forward(x)`.
    fn forward_hooked(&self, input: Self::Input, hooks: &Hooks) -> Tensor<2>;

    /// `input -> [batch, classes]` logits, with no hooks.
    fn forward(&self, input: Self::Input) -> Tensor<2> {
        self.forward_hooked(input, &Hooks::none())
    }

    /// The hidden layers whose pre-activations go through the hooks, in call order.
    fn insertion_points(&self) -> Vec<InsertionPoint> {
        Vec::new()
    }

    /// Module paths of the Linear layers that go through [`Hooks::linear`], in call order (for
    /// example `hidden.0`, …, `output`).
    fn linear_points(&self) -> Vec<String> {
        Vec::new()
    }

    /// The `[batch, d]` representation the output head reads (a text encoder's pooled sentence
    /// embedding), computed with the same hooks as [`forward_hooked`](Self::forward_hooked);
    /// `None` when the model offers none. `plasticity embed` writes it.
    fn features(&self, _input: Self::Input, _hooks: &Hooks) -> Option<Tensor<2>> {
        None
    }

    /// The name the model's original framework gives the parameter at `path` (Hugging Face's
    /// for a pretrained BERT: `attention.self.query.weight`, `LayerNorm.weight`); `inspect`
    /// shows it. Default: the path itself.
    fn external_name(&self, path: &str) -> String {
        path.to_string()
    }
}
