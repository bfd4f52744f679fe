//! The TauGate gate and the hook that inserts it into a [`PlasticModel`] (peft.md §1.3).

use super::TauGateConfig;
use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, activation::sigmoid};
use plasticity_models::{Activation, ActivationHook, PlasticModel};

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

    /// Soft gate (training): `h = γ ⊙ σ(s·(z − τ)) ⊙ φ(z)`. `z: [batch, H] -> [batch, H]`.
    pub fn forward_soft(&self, z: Tensor<2>, activation: Activation, sharpness: f64) -> Tensor<2> {
        let gate = sigmoid((z.clone() - self.row(&self.threshold)).mul_scalar(sharpness));
        self.row(&self.gain) * gate * activation.apply(z)
    }

    /// Hard gate (inference): `h = γ ⊙ 1[z > τ] ⊙ φ(z)`. `z: [batch, H] -> [batch, H]`.
    pub fn forward_hard(&self, z: Tensor<2>, activation: Activation) -> Tensor<2> {
        self.row(&self.gain) * self.hard_gate(z.clone()) * activation.apply(z)
    }

    /// `1[z > τ]` as floats, `[batch, H]`.
    pub fn hard_gate(&self, z: Tensor<2>) -> Tensor<2> {
        let batch = z.dims()[0];
        z.greater(self.row(&self.threshold).repeat_dim(0, batch)).float()
    }

    fn row(&self, vector: &Param<Tensor<1>>) -> Tensor<2> {
        vector.val().unsqueeze_dim(0)
    }
}

/// The gates of every insertion point of a model, in [`PlasticModel::insertion_points`] order.
/// Points beyond `gates.len()` pass through ungated (`h = φ(z)`). Train it as its own module
/// beside the frozen model: `model.forward_hooked(x, &gates)`.
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
}

impl ActivationHook for GateSet {
    fn activate(&self, point: usize, pre_activation: Tensor<2>, activation: Activation) -> Tensor<2> {
        match self.gates.get(point) {
            None => activation.apply(pre_activation),
            Some(gate) if self.hard => gate.forward_hard(pre_activation, activation),
            Some(gate) => gate.forward_soft(pre_activation, activation, self.sharpness),
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
