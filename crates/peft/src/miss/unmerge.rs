//! Undo a MiSS merge on plain tensors in Burn layout `[d_in, d_out]` (peft.md §2.3-2.5).
//! Merging is Burn's `Module::materialize()`, which folds every reparameterization into its weight.

use super::reparam::{expand_mini, from_blocks, per_block, tiled_delta, to_blocks};
use crate::PeftError;
use burn::tensor::{Tensor, TensorData};

/// Bone: `W = W' − B[i mod r, o]`. `merged: [d_in, d_out]`, `b: [r, d_out]`.
pub fn unmerge_bone(merged: Tensor<2>, b: Tensor<2>) -> Tensor<2> {
    let d_in = merged.dims()[0];
    merged - tiled_delta(b, d_in)
}

/// Mini: `W = W' − B[i mod r, o mod mini_r]`. `merged: [d_in, d_out]`, `b: [r, mini_r]`.
pub fn unmerge_mini(merged: Tensor<2>, b: Tensor<2>) -> Tensor<2> {
    let [d_in, d_out] = merged.dims();
    merged - tiled_delta(expand_mini(b, d_out), d_in)
}

/// Bat: peft's `W_{I,J} = (W'_{I,J} − B_I)(I + B_I)⁻¹`, in Burn layout
/// `W(a,c) = (I + B_cᵀ)⁻¹ (W'(a,c) − B_cᵀ)`. `merged: [d_in, d_out]`, `b: [d_out/r, r, r]`.
///
/// The r×r inverses are computed on the host by Gauss-Jordan elimination with partial pivoting,
/// in f64 (peft inverts in f32; fine for r ≤ 64). Errors when a block `I + B_c` is singular.
pub fn unmerge_bat(merged: Tensor<2>, b: Tensor<3>) -> Result<Tensor<2>, PeftError> {
    let [c, r, _] = b.dims();
    let device = b.device();
    let values: Vec<f32> = b
        .clone()
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .map_err(|e| PeftError::Data(format!("{e:?}")))?;
    let mut inverses = Vec::with_capacity(c * r * r);
    for (block, chunk) in values.chunks(r * r).enumerate() {
        // (I + B_c)ᵀ⁻¹ = ((I + B_c)⁻¹)ᵀ: invert I + B_c, then transpose below.
        let mut m: Vec<f64> = chunk.iter().map(|&v| f64::from(v)).collect();
        for k in 0..r {
            m[k * r + k] += 1.0;
        }
        let inv = invert(&m, r).map_err(|pivot| PeftError::Singular { block, pivot })?;
        inverses.extend(inv.into_iter().map(|v| v as f32));
    }
    let inv = Tensor::<3>::from_data(TensorData::new(inverses, [c, r, r]), &device).swap_dims(1, 2);
    let blocks = to_blocks(merged, r);
    let a = blocks.dims()[1];
    let shifted = blocks - per_block(b.swap_dims(1, 2), a);
    Ok(from_blocks(per_block(inv, a).matmul(shifted)))
}

/// Inverse of a row-major n×n matrix; `Err(pivot)` when a pivot is below 1e-12 in magnitude.
pub fn invert(matrix: &[f64], n: usize) -> Result<Vec<f64>, f64> {
    let mut m = matrix.to_vec();
    let mut inv = vec![0.0; n * n];
    for k in 0..n {
        inv[k * n + k] = 1.0;
    }
    for col in 0..n {
        let pivot_row = (col..n)
            .max_by(|&x, &y| m[x * n + col].abs().total_cmp(&m[y * n + col].abs()))
            .unwrap_or(col);
        let pivot = m[pivot_row * n + col];
        if pivot.abs() < 1e-12 {
            return Err(pivot);
        }
        for k in 0..n {
            m.swap(col * n + k, pivot_row * n + k);
            inv.swap(col * n + k, pivot_row * n + k);
        }
        for k in 0..n {
            m[col * n + k] /= pivot;
            inv[col * n + k] /= pivot;
        }
        for row in (0..n).filter(|&row| row != col) {
            let factor = m[row * n + col];
            for k in 0..n {
                m[row * n + k] -= factor * m[col * n + k];
                inv[row * n + k] -= factor * inv[col * n + k];
            }
        }
    }
    Ok(inv)
}

#[cfg(test)]
mod tests {
    use super::invert;

    #[test]
    fn invert_recovers_identity_with_pivoting() {
        // Needs a row swap: the leading entry is 0.
        let m = [0.0, 2.0, 1.0, 1.0, 0.0, 3.0, 4.0, 1.0, 0.0];
        let inv = invert(&m, 3).expect("invertible");
        for i in 0..3 {
            for j in 0..3 {
                let dot: f64 = (0..3).map(|k| m[i * 3 + k] * inv[k * 3 + j]).sum();
                assert!(
                    (dot - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12,
                    "({i},{j}) = {dot}"
                );
            }
        }
    }

    #[test]
    fn invert_rejects_singular() {
        assert!(invert(&[1.0, 2.0, 2.0, 4.0], 2).is_err());
    }
}
