//! Hooks: how methods act inside a model's forward pass without changing its code.
//!
//! A model calls [`Hooks`] at two kinds of places:
//! - **insertion points** (hidden layers), in place of `φ(z)`: [`Hooks::activate`] for
//!   `[batch, d]`, [`Hooks::activate_seq`] for `[batch, seq, d]` (with the attention mask) and
//!   [`Hooks::activate_map`] for `[batch, c, h, w]`. The unit is the last dimension, or the
//!   channel of a feature map.
//! - **linear points** (Linear layers), in place of `layer.forward(x)`: [`Hooks::linear`].
//!
//! Hooks see every activation in one canonical form, [`Units`]: `[n, units, positions]`, where
//! `[batch, d]` is `[batch, d, 1]`, `[batch, seq, d]` is `[batch·seq, d, 1]` (with a `[batch·seq]`
//! mask) and `[batch, c, h, w]` is `[batch, c, h·w]`. All three are free reshapes, and a per-unit
//! vector broadcasts as `[1, units, 1]`.
//!
//! **Composition order.** Several methods' hooks run in one forward, in the order the methods
//! were given to the run:
//! 1. at an insertion point, `h = φ(z)`; then every hook's [`Hook::activate`] in order, each
//!    getting the previous `h` (TauGate multiplies its gate in here); then every hook's
//!    [`Hook::observe`] with the final `h`: an observer sees the activation after the gates;
//! 2. at a linear point, the first hook whose [`Hook::replace_linear`] returns `Some` computes
//!    the layer (a sparse kernel, activation-space LoRA); otherwise `layer.forward(x)`. Then
//!    every hook's [`Hook::linear`] adjusts the output in order (LoRA dropout adds its branch).
//!
//! With no hooks, each call is exactly the plain computation (`φ(z)`, `layer.forward(x)`).

use crate::Activation;
use burn::nn::Linear;
use burn::tensor::Tensor;

/// One hidden layer a model exposes to activation-space methods.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InsertionPoint {
    /// Module path of the layer that produces the pre-activation (for example `hidden.0`).
    pub name: String,
    /// Number of units (features, or channels of a feature map).
    pub width: usize,
}

/// Activations at an insertion point in canonical form.
#[derive(Clone, Debug)]
pub struct Units {
    /// `[n, units, positions]`.
    pub values: Tensor<3>,
    /// `[n]`: 1.0 where row `n` is a real token, 0.0 at padding; `None` when every row counts.
    pub mask: Option<Tensor<1>>,
}

/// A method's part of one forward pass. Every function has a default that changes nothing.
pub trait Hook: Send + Sync {
    /// At insertion point `point`: `z` is the pre-activation, `h` the activation so far
    /// (`φ(z)` after the earlier hooks), both `[n, units, positions]`; returns the new `h`.
    fn activate(&self, _point: usize, _z: &Units, h: Tensor<3>) -> Tensor<3> {
        h
    }

    /// Sees the final activation at insertion point `point` (after every hook's `activate`).
    fn observe(&self, _point: usize, _h: &Units) {}

    /// Computes linear point `point` instead of `layer.forward(x)`: `x: [n, d_in] ->
    /// [n, d_out]`. The first hook that returns `Some` wins.
    fn replace_linear(&self, _point: usize, _layer: &Linear, _x: &Tensor<2>) -> Option<Tensor<2>> {
        None
    }

    /// Adjusts the output `y = x·W + b: [n, d_out]` of linear point `point` (`x: [n, d_in]`).
    fn linear(&self, _point: usize, _x: &Tensor<2>, y: Tensor<2>) -> Tensor<2> {
        y
    }
}

/// The hooks of one forward pass, in composition order (see the module docs).
#[derive(Default)]
pub struct Hooks {
    hooks: Vec<Box<dyn Hook>>,
}

impl Hooks {
    /// No hooks: every call computes the plain layer.
    pub fn none() -> Self {
        Self::default()
    }

    pub fn new(hooks: Vec<Box<dyn Hook>>) -> Self {
        Self { hooks }
    }

    pub fn push(&mut self, hook: Box<dyn Hook>) {
        self.hooks.push(hook);
    }

    pub fn is_empty(&self) -> bool {
        self.hooks.is_empty()
    }

    /// `z: [batch, d] -> h: [batch, d]` at insertion point `point`.
    pub fn activate(&self, point: usize, z: Tensor<2>, activation: Activation) -> Tensor<2> {
        if self.is_empty() {
            return activation.apply(z);
        }
        let [n, d] = z.dims();
        let units = Units {
            values: z.reshape([n, d, 1]),
            mask: None,
        };
        self.run(point, units, activation).reshape([n, d])
    }

    /// `z: [batch, seq, d] -> h: [batch, seq, d]`; `mask: [batch, seq]` as in [`crate::Tokens`].
    pub fn activate_seq(&self, point: usize, z: Tensor<3>, mask: &Tensor<2>, activation: Activation) -> Tensor<3> {
        if self.is_empty() {
            return activation.apply(z);
        }
        let [b, s, d] = z.dims();
        let units = Units {
            values: z.reshape([b * s, d, 1]),
            mask: Some(mask.clone().reshape([b * s])),
        };
        self.run(point, units, activation).reshape([b, s, d])
    }

    /// `z: [batch, c, h, w] -> [batch, c, h, w]`; the unit is the channel.
    pub fn activate_map(&self, point: usize, z: Tensor<4>, activation: Activation) -> Tensor<4> {
        if self.is_empty() {
            return activation.apply(z);
        }
        let [b, c, h, w] = z.dims();
        let units = Units {
            values: z.reshape([b, c, h * w]),
            mask: None,
        };
        self.run(point, units, activation).reshape([b, c, h, w])
    }

    fn run(&self, point: usize, z: Units, activation: Activation) -> Tensor<3> {
        let mut h = activation.apply(z.values.clone());
        for hook in &self.hooks {
            h = hook.activate(point, &z, h);
        }
        let out = Units { values: h, mask: z.mask };
        for hook in &self.hooks {
            hook.observe(point, &out);
        }
        out.values
    }

    /// `layer.forward(x)` at linear point `point`, `x: [..., d_in] -> [..., d_out]`.
    pub fn linear<const D: usize>(&self, point: usize, layer: &Linear, x: Tensor<D>) -> Tensor<D> {
        if self.is_empty() {
            return layer.forward(x);
        }
        let dims = x.dims();
        let d_in = dims[D - 1];
        let n = dims[..D - 1].iter().product::<usize>();
        let x: Tensor<2> = x.reshape([n, d_in]);
        let replaced = self.hooks.iter().find_map(|h| h.replace_linear(point, layer, &x));
        let mut y = replaced.unwrap_or_else(|| layer.forward(x.clone()));
        for hook in &self.hooks {
            y = hook.linear(point, &x, y);
        }
        let mut out = dims;
        out[D - 1] = y.dims()[1];
        y.reshape(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::LinearConfig;
    use burn::tensor::{Device, TensorData};
    use std::sync::{Arc, Mutex};

    /// Multiplies the activation by `factor` and records what it was given.
    struct Scale(f32, Arc<Mutex<Vec<String>>>);

    impl Hook for Scale {
        fn activate(&self, _point: usize, _z: &Units, h: Tensor<3>) -> Tensor<3> {
            self.1.lock().unwrap().push(format!("activate x{}", self.0));
            h.mul_scalar(self.0)
        }
        fn observe(&self, _point: usize, h: &Units) {
            let first = h.values.clone().reshape([4]).into_data().try_to_vec::<f32>().unwrap()[0];
            self.1.lock().unwrap().push(format!("observe {first}"));
        }
        fn linear(&self, _point: usize, _x: &Tensor<2>, y: Tensor<2>) -> Tensor<2> {
            self.1.lock().unwrap().push(format!("linear x{}", self.0));
            y.mul_scalar(self.0)
        }
    }

    /// Computes the layer as zeros plus one (instead of `x·W + b`).
    struct Replace;

    impl Hook for Replace {
        fn replace_linear(&self, _point: usize, layer: &Linear, x: &Tensor<2>) -> Option<Tensor<2>> {
            let d_out = layer.weight.dims()[1];
            Some(Tensor::ones([x.dims()[0], d_out], &x.device()))
        }
    }

    #[test]
    fn hooks_compose_in_order_and_observers_see_the_gated_activation() {
        let device = Device::flex();
        let log = Arc::new(Mutex::new(Vec::new()));
        let hooks = Hooks::new(vec![Box::new(Scale(2.0, log.clone())), Box::new(Scale(3.0, log.clone()))]);
        let z = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, -1.0, 0.5, 2.0], [2, 2]), &device);
        let h = hooks.activate(0, z, Activation::Relu);
        assert_eq!(h.into_data().try_to_vec::<f32>().unwrap(), [6.0, 0.0, 3.0, 12.0]);
        // Both gates first, in order, then both observers, each seeing the final activation.
        assert_eq!(*log.lock().unwrap(), ["activate x2", "activate x3", "observe 6", "observe 6"]);
    }

    #[test]
    fn a_hook_replaces_a_linear_layer_and_the_others_adjust_its_output() {
        let device = Device::flex();
        let layer = LinearConfig::new(3, 2).init(&device);
        let x = Tensor::<3>::ones([2, 5, 3], &device);
        assert_eq!(Hooks::none().linear(0, &layer, x.clone()).dims(), [2, 5, 2]);
        let log = Arc::new(Mutex::new(Vec::new()));
        let hooks = Hooks::new(vec![Box::new(Scale(2.0, log.clone())), Box::new(Replace)]);
        // [batch, seq, d] goes through the hooks as [batch·seq, d] and comes back.
        let y = hooks.linear(0, &layer, x);
        assert_eq!(y.dims(), [2, 5, 2]);
        assert!(y.into_data().try_to_vec::<f32>().unwrap().iter().all(|&v| v == 2.0));
        assert_eq!(*log.lock().unwrap(), ["linear x2"]);
    }
}
