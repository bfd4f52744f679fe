//! The three MiSS reparameterizations. Weights are in Burn layout `[d_in, d_out]`; the adapter
//! tensors keep peft's own shapes and orientation, so exporting one is a plain copy.
//! All use `NAME = "miss"`, so adapter paths are `<module>.weight.miss.b`.

use crate::adapter::as_matrix;
use burn::module::{Module, Param, Reparameterization};
use burn::tensor::Tensor;

/// MiSS default ("bone", peft.md §2.3). `b: [r, d_out]`, zeros at init.
///
/// Burn layout: `W'[i, o] = W[i, o] + B[i mod r, o]` (peft: `W'[o, i] = W[o, i] + B[i mod r, o]`).
/// When `d_in % r != 0` the last r-row shard is truncated, which equals peft's zero-padding of `x`.
#[derive(Module, Debug)]
pub struct MissBone {
    pub b: Param<Tensor<2>>,
}

/// `B[i mod r, o]` for `i < d_in`: B tiled down the rows and truncated. `b: [r, d_out]`.
pub fn tiled_delta(b: Tensor<2>, d_in: usize) -> Tensor<2> {
    let [r, d_out] = b.dims();
    b.repeat_dim(0, d_in.div_ceil(r)).slice([0..d_in, 0..d_out])
}

/// Expand a mini block `[r, mini_r]` to `[r, d_out]` (peft: `miss_mini.repeat(1, out // mini_r)`).
pub fn expand_mini(b_mini: Tensor<2>, d_out: usize) -> Tensor<2> {
    let mini_r = b_mini.dims()[1];
    b_mini.repeat_dim(1, d_out / mini_r)
}

impl Reparameterization for MissBone {
    const NAME: &'static str = "miss";

    fn apply<const D: usize>(&self, base: Tensor<D>) -> Tensor<D> {
        let shape = base.shape();
        let w = as_matrix(base);
        let d_in = w.dims()[0];
        (w + tiled_delta(self.b.val(), d_in)).reshape(shape)
    }
}

/// MiSS "mini" (peft.md §2.5). `b: [r, mini_r]`, zeros; requires `d_out % mini_r == 0`.
///
/// Burn layout: `W'[i, o] = W[i, o] + B[i mod r, o mod mini_r]`.
#[derive(Module, Debug)]
pub struct MissMini {
    pub b: Param<Tensor<2>>,
}

impl Reparameterization for MissMini {
    const NAME: &'static str = "miss";

    fn apply<const D: usize>(&self, base: Tensor<D>) -> Tensor<D> {
        let shape = base.shape();
        let w = as_matrix(base);
        let [d_in, d_out] = w.dims();
        (w + tiled_delta(expand_mini(self.b.val(), d_out), d_in)).reshape(shape)
    }
}

/// MiSS "bat", block-affine (peft.md §2.4). `b: [d_out/r, r, r]`, zeros, stored exactly as peft's
/// `miss_block` (B_c for output block c). Requires `d_in % r == 0` and `d_out % r == 0`.
///
/// peft (PyTorch layout, I = output block, J = input block): `W'_{I,J} = W_{I,J}(I + B_I) + B_I`.
/// Transposed into Burn layout (a = input block, c = output block), the same function is
/// `W'(a,c) = (I + B_cᵀ) · W(a,c) + B_cᵀ` (burn-0.22.md §11.2). The delta depends on the frozen
/// base, so a merge is not free and unmerging needs `(I + B_c)⁻¹` ([`unmerge_bat`](super::unmerge_bat)).
#[derive(Module, Debug)]
pub struct MissBat {
    pub b: Param<Tensor<3>>,
}

/// Split `[d_in, d_out]` into r×r blocks `[c, a, r, r]` (block (a, c) at `[c, a]`).
pub(crate) fn to_blocks(w: Tensor<2>, r: usize) -> Tensor<4> {
    let [d_in, d_out] = w.dims();
    w.reshape([d_in / r, r, d_out / r, r]).permute([2, 0, 1, 3])
}

/// Inverse of [`to_blocks`].
pub(crate) fn from_blocks(blocks: Tensor<4>) -> Tensor<2> {
    let [c, a, r, _] = blocks.dims();
    blocks.permute([1, 2, 0, 3]).reshape([a * r, c * r])
}

/// `[c, r, r]` -> `[c, a, r, r]`, the same matrix for every input block.
pub(crate) fn per_block(m: Tensor<3>, a: usize) -> Tensor<4> {
    m.unsqueeze_dim::<4>(1).repeat_dim(1, a)
}

impl Reparameterization for MissBat {
    const NAME: &'static str = "miss";

    fn apply<const D: usize>(&self, base: Tensor<D>) -> Tensor<D> {
        let shape = base.shape();
        let b = self.b.val();
        let r = b.dims()[2];
        let blocks = to_blocks(as_matrix(base), r);
        let a = blocks.dims()[1];
        let bt = per_block(b.swap_dims(1, 2), a);
        let merged = blocks.clone() + bt.clone().matmul(blocks) + bt;
        from_blocks(merged).reshape(shape)
    }
}
