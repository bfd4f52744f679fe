//! The reparameterization `w = v ⊙ m(S)`: `v` the frozen weight, `S` a trained score of the
//! same size (stored flat, `[n]`), and `m = sign(S)·[|S| > τ]·support ∈ {−1, 0, +1}` with the layer's
//! threshold `τ` (`[1]`, not trained: the method resets it after every step so that the layer
//! keeps its density). The gradient reaches `S` through a straight-through estimator,
//! `m_ste = stop_grad(m) + S − stop_grad(S)`, so `∂L/∂S = ∂L/∂m = ∂L/∂w ⊙ v` (kosnil/
//! signed_supermasks, `custom_layers.py`).

use burn::module::{Module, Param, Reparameterization};
use burn::tensor::Tensor;
use std::cmp::Ordering;

#[derive(Module, Debug)]
pub struct SignedSupermask {
    /// `S`, `[n]` (the weight flattened row-major).
    pub scores: Param<Tensor<1>>,
    /// `τ`, `[1]`: `|S| ≤ τ` is pruned.
    pub threshold: Param<Tensor<1>>,
    /// A fixed 0/1 support, `[n]`, not trained: all ones for the signed supermask, the SynFlow
    /// mask for HideNseek (whose `τ` stays −1, so only signs are learned).
    pub support: Param<Tensor<1>>,
}

impl SignedSupermask {
    /// A mask over `scores` at `sparsity` (its threshold from [`threshold_for`]).
    pub fn new(scores: Tensor<1>, sparsity: f64) -> Self {
        let host = plasticity_core::host_values(scores.clone());
        let tau = Tensor::<1>::from_data(burn::tensor::TensorData::new(vec![threshold_for(&host, sparsity)], [1]), &scores.device());
        let support = scores.ones_like();
        Self {
            scores: Param::from_tensor(scores),
            threshold: Param::from_tensor(tau).set_require_grad(false),
            support: Param::from_tensor(support).set_require_grad(false),
        }
    }

    /// `m = sign(S)·[|S| > τ]·support`, `[n]`, outside the graph.
    pub fn mask(&self) -> Tensor<1> {
        let s = self.scores.val().detach();
        let n = s.dims()[0];
        let kept = s.clone().abs().greater(self.threshold.val().detach().expand([n])).float();
        s.sign() * kept * self.support.val().detach()
    }
}

impl Reparameterization for SignedSupermask {
    const NAME: &'static str = "signed_supermask";

    fn apply<const D: usize>(&self, v: Tensor<D>) -> Tensor<D> {
        let s = self.scores.val();
        let ste = self.mask() + s.clone() - s.detach();
        let dims = v.dims();
        v * ste.reshape(dims)
    }
}

/// `τ` such that `|S| > τ` keeps a `1 − sparsity` share: the `k`-th smallest `|S|` with
/// `k = ⌊sparsity·n⌋` (ties with it go too), or −1 (keep everything) when `k = 0`.
pub fn threshold_for(scores: &[f32], sparsity: f64) -> f32 {
    let k = (sparsity * scores.len() as f64) as usize;
    if k == 0 {
        return -1.0;
    }
    let mut a: Vec<f32> = scores.iter().map(|s| s.abs()).collect();
    let (_, kth, _) = a.select_nth_unstable_by(k - 1, |x, y| x.partial_cmp(y).unwrap_or(Ordering::Equal));
    *kth
}
