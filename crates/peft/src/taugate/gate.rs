//! The TauGate gate and the hook that inserts it into a [`PlasticModel`] (peft.md §1.3).
//!
//! Gates act at the model's insertion points on the canonical `[n, units, positions]` form of
//! [`Units`]: τ and γ broadcast as `[1, units, 1]`, so the same gate serves `[batch, d]`,
//! `[batch, seq, d]` and `[batch, c, h, w]` layers.

use super::TauGateConfig;
use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, activation::sigmoid};
use plasticity_core::{Hook, Hooks, PlasticModel, Units};

/// One gated layer of width H: `threshold` τ `[H]`, `gain` γ `[H]` (2·H trainable parameters).
#[derive(Module, Debug)]
pub struct NeuronGate {
    pub threshold: Param<Tensor<1>>,
    pub gain: Param<Tensor<1>>,
}

impl NeuronGate {
    /// τ = `threshold`, γ = 1 for `width` units.
    pub fn new(width: usize, threshold: f64, device: &Device) -> Self {
        Self {
            threshold: Param::from_tensor(Tensor::full([width], threshold, device)),
            gain: Param::from_tensor(Tensor::ones([width], device)),
        }
    }

    /// Soft gate (training): `h = γ ⊙ σ(s·(z − τ)) ⊙ φ(z)`, with `φ(z)` given as `h`.
    /// `z, h: [n, H, positions] -> [n, H, positions]`.
    pub fn forward_soft(&self, z: Tensor<3>, h: Tensor<3>, sharpness: f64) -> Tensor<3> {
        let gate = sigmoid((z - self.unit(&self.threshold)).mul_scalar(sharpness));
        self.unit(&self.gain) * gate * h
    }

    /// Hard gate (inference): `h = γ ⊙ 1[z > τ] ⊙ φ(z)`, with `φ(z)` given as `h`.
    pub fn forward_hard(&self, z: Tensor<3>, h: Tensor<3>) -> Tensor<3> {
        self.unit(&self.gain) * self.hard_gate(z) * h
    }

    /// `1[z > τ]` as floats, `[n, H, positions]`.
    pub fn hard_gate(&self, z: Tensor<3>) -> Tensor<3> {
        let [n, _, k] = z.dims();
        z.greater(self.unit(&self.threshold).repeat_dim(0, n).repeat_dim(2, k)).float()
    }

    /// A per-unit vector as `[1, H, 1]`.
    fn unit(&self, vector: &Param<Tensor<1>>) -> Tensor<3> {
        let width = vector.dims()[0];
        vector.val().reshape([1, width, 1])
    }
}

/// The gates of every insertion point of a model, in [`PlasticModel::insertion_points`] order.
/// Points beyond `gates.len()` pass through ungated (`h = φ(z)`). Train it as its own module
/// beside the frozen model: `model.forward_hooked(x, &gates.hooks())`.
#[derive(Module, Debug)]
pub struct GateSet {
    pub gates: Vec<NeuronGate>,
    /// `s`; change it with [`with_sharpness`](Self::with_sharpness) for an annealing schedule.
    pub sharpness: f64,
    /// Use the hard gate `1[z > τ]` instead of the sigmoid.
    pub hard: bool,
}

impl GateSet {
    pub fn with_sharpness(mut self, sharpness: f64) -> Self {
        self.sharpness = sharpness;
        self
    }

    /// Switch to the hardened gate (`hard = true`) or back.
    pub fn hardened(mut self, hard: bool) -> Self {
        self.hard = hard;
        self
    }

    /// The hooks of a forward pass through these gates alone.
    pub fn hooks(&self) -> Hooks {
        Hooks::new(vec![Box::new(self.clone())])
    }
}

impl Hook for GateSet {
    fn activate(&self, point: usize, z: &Units, h: Tensor<3>) -> Tensor<3> {
        match self.gates.get(point) {
            None => h,
            Some(gate) if self.hard => gate.forward_hard(z.values.clone(), h),
            Some(gate) => gate.forward_soft(z.values.clone(), h, self.sharpness),
        }
    }
}

impl TauGateConfig {
    /// Gates for layers of the given widths: τ = −c/s, γ = 1, soft.
    pub fn init(&self, widths: &[usize], device: &Device) -> Result<GateSet, crate::PeftError> {
        self.validate()?;
        let threshold = -self.init_margin / self.sharpness;
        // With a schedule the gates start at its first value; τ still uses `sharpness`.
        let sharpness = self.anneal.as_ref().map_or(self.sharpness, |a| a.start);
        Ok(GateSet {
            gates: widths.iter().map(|&w| NeuronGate::new(w, threshold, device)).collect(),
            sharpness,
            hard: false,
        })
    }

    /// Gates for every insertion point of `model`.
    pub fn init_for<M: PlasticModel>(&self, model: &M, device: &Device) -> Result<GateSet, crate::PeftError> {
        let widths: Vec<usize> = model.insertion_points().iter().map(|p| p.width).collect();
        self.init(&widths, device)
    }
}
