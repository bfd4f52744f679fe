//! Reading TriAdaptLoRA adapters out of any model: a [`ModuleVisitor`] sees the adapter's
//! parameters at paths `<module>.<weight>.triadapt.{a,b,c_row,c_col}.<t>` (Burn visits a
//! reparameterized parameter's base, then `enter_module("triadapt", "Reparameterization")`).

use super::reparam::{TriAdapt, assemble};
use crate::adapter::{adapter_matrices, module_of};
use burn::module::{Module, ParamId, Reparameterization};
use burn::tensor::Tensor;
use std::collections::BTreeMap;

/// The blocks of one adapted layer, as stored (layouts as in [`TriAdapt`]). The tensors are the
/// parameters' values, still tracked by autodiff on an autodiff device.
#[derive(Clone, Debug, Default)]
pub struct LayerBlocks {
    pub a: Vec<Tensor<2>>,
    pub b: Vec<Tensor<2>>,
    pub c_row: Vec<Tensor<2>>,
    pub c_col: Vec<Tensor<2>>,
    /// Id of `a[0]`, which identifies the adapter across mapper passes.
    pub first_a: Option<ParamId>,
}

impl LayerBlocks {
    /// Increment sizes `k_t`.
    pub fn sizes(&self) -> Vec<usize> {
        self.a.iter().map(|a| a.dims()[1]).collect()
    }

    /// Current rank R.
    pub fn rank(&self) -> usize {
        self.sizes().iter().sum()
    }

    /// The assembled `C [R, R]` (source orientation).
    pub fn c(&self) -> Tensor<2> {
        let (l, u) = assemble(self.c_row.clone(), self.c_col.clone());
        l + u
    }

    /// `||C||_F` on the host.
    pub fn c_norm(&self) -> f64 {
        let c = self.c();
        f64::from(scalar(c.clone().mul(c).sum())).sqrt()
    }
}

pub(crate) fn scalar(t: Tensor<1>) -> f32 {
    t.into_data().convert::<f32>().try_to_vec::<f32>().expect("f32 data")[0]
}

/// Every TriAdaptLoRA adapter of `model`, by module path (the weight's path minus `.weight`).
pub fn layers<M: Module>(model: &M) -> BTreeMap<String, LayerBlocks> {
    let mut layers: BTreeMap<String, LayerBlocks> = BTreeMap::new();
    for (found, id, value) in adapter_matrices(model) {
        if found.name != TriAdapt::NAME {
            continue;
        }
        let layer = layers.entry(module_of(&found.base).to_string()).or_default();
        match found.field.split('.').next().unwrap_or_default() {
            "a" => {
                layer.first_a.get_or_insert(id);
                layer.a.push(value)
            }
            "b" => layer.b.push(value),
            "c_row" => layer.c_row.push(value),
            "c_col" => layer.c_col.push(value),
            _ => {}
        }
    }
    layers
}

/// TriAdaptLoRA's grown ranks: the increment sizes per adapted module path, e.g.
/// `{"hidden.0": [1, 4, 4]}` (`rank_pattern.json`).
pub type RankPattern = BTreeMap<String, Vec<usize>>;

/// The [`RankPattern`] of `model`: the shapes needed to rebuild the adapters ([`apply_with_pattern`](super::TriAdaptConfig::apply_with_pattern)) before
/// loading a record. Runs store it with every checkpoint and as `rank_pattern.json` (the source
/// keeps it in the config).
pub fn rank_pattern<M: Module>(model: &M) -> RankPattern {
    layers(model).into_iter().map(|(m, l)| (m, l.sizes())).collect()
}

/// The source's orthogonality regulariser (peft.md §3.2), to be added to the loss as
/// `orth_reg_weight · penalty`: the mean over adapted layers and {A, B} of `||A·Aᵀ − I||_F` and
/// `||Bᵀ·B − I||_F`, with the source's `A [R, in]`, `B [out, R]`. In Burn layout `a = Aᵀ`,
/// `b = Bᵀ`, so these are `||aᵀ·a − I||_F` and `||b·bᵀ − I||_F`. Shape `[1]`, differentiable.
/// `None` when the model has no TriAdaptLoRA adapter.
pub fn orthogonality_penalty<M: Module>(model: &M) -> Option<Tensor<1>> {
    let layers = layers(model);
    let count = 2 * layers.len();
    let frobenius = |m: Tensor<2>| {
        let [r, _] = m.dims();
        let d = m.clone() - Tensor::eye(r, &m.device());
        // ε under the root: the penalty drives a rank-1 block's ‖a‖² − 1 to exactly 0 in f32,
        // where d‖·‖/d· = 0/0 = NaN (seen at step 2058 of the rotated-MNIST run). ε = 1e-12
        // changes the value by < 1e-6 and makes the gradient 0 there.
        ((d.clone() * d).sum() + 1e-12).sqrt()
    };
    layers
        .into_values()
        .flat_map(|l| {
            let a = Tensor::cat(l.a, 1);
            let b = Tensor::cat(l.b, 0);
            [
                frobenius(a.clone().transpose().matmul(a)),
                frobenius(b.clone().matmul(b.transpose())),
            ]
        })
        .reduce(|x, y| x + y)
        .map(|sum| sum.div_scalar(count as f64))
}
