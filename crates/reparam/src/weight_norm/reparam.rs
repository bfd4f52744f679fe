//! The weight-norm reparameterization (reparam-prune.md §2.1): `w = g · v / ‖v‖`, with `v` the
//! stored weight and `g` one scalar per output unit (or one for the whole tensor).
//!
//! Layouts (Burn): a Linear weight `[d_in, d_out]` has its units in columns, so `‖v‖` is taken
//! over dim 0 and `g` is `[d_out]` (PyTorch's `dim=0` on its `[out, in]` weight). A convolution
//! `[c_out, c_in, k_h, k_w]` has its units in rows: `‖v‖` over the other dimensions, `g` is
//! `[c_out]`. `‖v‖` is clamped at [`MIN_NORM`]: a unit whose `v` is all zero outputs zero
//! instead of NaN (PyTorch divides by zero there).

use burn::module::{Module, Param, Reparameterization};
use burn::tensor::Tensor;

/// Smallest `‖v‖` divided by.
pub const MIN_NORM: f64 = 1e-12;

/// Where the units of a weight are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NormLayout {
    /// Units are the last dimension (a Linear's `[d_in, d_out]`): `‖v‖` over the others.
    Columns,
    /// Units are the first dimension (a convolution's `[c_out, …]`): `‖v‖` over the others.
    Rows,
    /// One norm for the whole tensor.
    Whole,
}

/// `g` of one weight: `[units]` (or `[1]` for [`NormLayout::Whole`]).
#[derive(Module, Debug)]
pub struct WeightNorm {
    pub g: Param<Tensor<1>>,
    #[module(skip)]
    pub layout: NormLayout,
}

impl NormLayout {
    /// `v` as a matrix with the units in columns: `[rest, units]` (`[n, 1]` for `Whole`).
    fn columns<const D: usize>(self, v: Tensor<D>) -> Tensor<2> {
        let dims = v.dims();
        let n: usize = dims.iter().product();
        match self {
            Self::Columns => v.reshape([n / dims[D - 1], dims[D - 1]]),
            Self::Rows => v.reshape([dims[0], n / dims[0]]).transpose(),
            Self::Whole => v.reshape([n, 1]),
        }
    }

    /// `‖v‖` per unit, `[units]`.
    pub fn norms<const D: usize>(self, v: Tensor<D>) -> Tensor<1> {
        let cols = self.columns(v);
        let units = cols.dims()[1];
        cols.powi_scalar(2).sum_dim(0).sqrt().reshape([units])
    }

    /// `v` with each unit scaled by `scale: [units]`.
    fn scale<const D: usize>(self, v: Tensor<D>, scale: Tensor<1>) -> Tensor<D> {
        let dims = v.dims();
        let units = scale.dims()[0];
        match self {
            Self::Columns => {
                let n: usize = dims.iter().product();
                (v.reshape([n / units, units]) * scale.reshape([1, units])).reshape(dims)
            }
            Self::Rows => {
                let n: usize = dims.iter().product();
                (v.reshape([units, n / units]) * scale.reshape([units, 1])).reshape(dims)
            }
            Self::Whole => {
                let n: usize = dims.iter().product();
                (v.reshape([1, n]) * scale.reshape([1, 1])).reshape(dims)
            }
        }
    }
}

impl WeightNorm {
    /// `g` = `‖v‖`, so that the reparameterized weight equals `v` at attach (PyTorch's
    /// `right_inverse`).
    pub fn for_weight<const D: usize>(v: Tensor<D>, layout: NormLayout) -> Self {
        let g = layout.norms(v).detach();
        Self {
            g: Param::from_tensor(g),
            layout,
        }
    }
}

impl Reparameterization for WeightNorm {
    const NAME: &'static str = "weight_norm";

    fn apply<const D: usize>(&self, v: Tensor<D>) -> Tensor<D> {
        let norms = self.layout.norms(v.clone()).clamp_min(MIN_NORM);
        self.layout.scale(v, self.g.val() / norms)
    }
}
