//! A sparse Linear layer on the CPU: `y = x·W + b` with `W` (`[d_in, d_out]`, Burn's layout)
//! held as CSR over its columns (one row of `Wᵀ` per output unit). Examples go in chunks of 64:
//! a chunk of `x` is transposed into a scratch block `[d_in][64]` (8×8 tiles in AVX registers),
//! each output unit `j` accumulates `b_j + Σ_k w_k · block[i_k]` over its nonzeros `(i_k, w_k)`
//! (a 64-wide multiply-add per nonzero; compiled for AVX-512 or AVX2 + FMA when the CPU has them,
//! detected at run time) into a block `[d_out][64]`, which is transposed back into the chunk's
//! rows of `y`. Chunks are split over threads
//! (rayon). Input and output stay row-major `[n, d]`: no transposed tensor leaves the kernel.
//!
//! Work: `n · nnz(W)` multiply-adds, plus reading `x` once, against the dense matmul's
//! `n·d_in·d_out`. The sums run in another order than the dense kernel's, so outputs agree to
//! rounding (the tests check 1e-5).

use rayon::prelude::*;

/// Examples computed together (the scratch block's width).
const LANES: usize = 64;

thread_local! {
    /// Each thread's scratch blocks, kept between calls (allocating and zeroing them per chunk
    /// cost more than the arithmetic).
    static SCRATCH: std::cell::RefCell<(Vec<f32>, Vec<f32>)> = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

#[derive(Clone, Debug)]
pub struct CsrLinear {
    d_in: usize,
    d_out: usize,
    /// `d_out + 1` offsets into `rows` and `values`.
    ptr: Vec<usize>,
    /// Input index of each nonzero.
    rows: Vec<u32>,
    values: Vec<f32>,
    bias: Option<Vec<f32>>,
}

impl CsrLinear {
    /// From a dense weight `[d_in, d_out]` (row-major) and an optional bias `[d_out]`.
    pub fn from_dense(weight: &[f32], d_in: usize, d_out: usize, bias: Option<Vec<f32>>) -> Self {
        assert_eq!(weight.len(), d_in * d_out, "weight of {} values for [{d_in}, {d_out}]", weight.len());
        let mut ptr = Vec::with_capacity(d_out + 1);
        let (mut rows, mut values) = (Vec::new(), Vec::new());
        ptr.push(0);
        for j in 0..d_out {
            for i in 0..d_in {
                let w = weight[i * d_out + j];
                if w != 0.0 {
                    rows.push(i as u32);
                    values.push(w);
                }
            }
            ptr.push(values.len());
        }
        Self { d_in, d_out, ptr, rows, values, bias }
    }

    pub fn d_out(&self) -> usize {
        self.d_out
    }

    /// Nonzero weights over all weights.
    pub fn density(&self) -> f64 {
        self.values.len() as f64 / (self.d_in * self.d_out).max(1) as f64
    }

    /// `x: [n, d_in]` row-major to `y: [n, d_out]`.
    pub fn forward(&self, x: &[f32], n: usize) -> Vec<f32> {
        assert_eq!(x.len(), n * self.d_in, "input of {} values for [{n}, {}]", x.len(), self.d_in);
        let mut y = vec![0.0f32; n * self.d_out];
        if self.d_out == 0 || self.d_in == 0 {
            return y;
        }
        y.par_chunks_mut(self.d_out * LANES).zip(x.par_chunks(self.d_in * LANES)).for_each(|(yc, xc)| {
            SCRATCH.with_borrow_mut(|(xb, yb)| {
                // Every entry the chunk reads is written first (or zeroed, for a short chunk).
                xb.resize(xb.len().max(self.d_in * LANES), 0.0);
                yb.resize(yb.len().max(self.d_out * LANES), 0.0);
                self.chunk_dispatch(xc, yc, &mut xb[..self.d_in * LANES], &mut yb[..self.d_out * LANES]);
            })
        });
        y
    }

    /// [`chunk`](Self::chunk) compiled for the widest vector unit the CPU has.
    fn chunk_dispatch(&self, xc: &[f32], yc: &mut [f32], xb: &mut [f32], yb: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has AVX-512F (checked just above).
                return unsafe { self.chunk_avx512(xc, yc, xb, yb) };
            }
            if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                // SAFETY: the CPU has AVX2 and FMA (checked just above).
                return unsafe { self.chunk_avx2(xc, yc, xb, yb) };
            }
        }
        self.chunk(xc, yc, xb, yb, transpose_tiled)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    fn chunk_avx512(&self, xc: &[f32], yc: &mut [f32], xb: &mut [f32], yb: &mut [f32]) {
        // SAFETY: AVX-512F CPUs have AVX, all the transpose uses.
        self.chunk(xc, yc, xb, yb, |s, r, c, ss, d, ds| unsafe { transpose_avx(s, r, c, ss, d, ds) })
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn chunk_avx2(&self, xc: &[f32], yc: &mut [f32], xb: &mut [f32], yb: &mut [f32]) {
        // SAFETY: this runs where AVX2 was detected, so AVX is there.
        self.chunk(xc, yc, xb, yb, |s, r, c, ss, d, ds| unsafe { transpose_avx(s, r, c, ss, d, ds) })
    }

    /// Up to [`LANES`] examples: `xc` `[m, d_in]` into `yc` `[m, d_out]`, through the scratch
    /// blocks `xb` (`[d_in][LANES]`) and `yb` (`[d_out][LANES]`).
    #[inline(always)]
    fn chunk(&self, xc: &[f32], yc: &mut [f32], xb: &mut [f32], yb: &mut [f32], transpose: impl Fn(&[f32], usize, usize, usize, &mut [f32], usize)) {
        let m = xc.len() / self.d_in;
        if m < LANES {
            xb.iter_mut().for_each(|v| *v = 0.0);
        }
        transpose(xc, m, self.d_in, self.d_in, xb, LANES);
        for (j, out) in yb.chunks_exact_mut(LANES).enumerate() {
            let mut acc = [self.bias.as_ref().map_or(0.0, |b| b[j]); LANES];
            for k in self.ptr[j]..self.ptr[j + 1] {
                let (i, w) = (self.rows[k] as usize, self.values[k]);
                for (a, x) in acc.iter_mut().zip(&xb[i * LANES..(i + 1) * LANES]) {
                    *a += w * x;
                }
            }
            out.copy_from_slice(&acc);
        }
        transpose(yb, self.d_out, m, LANES, yc, self.d_out);
    }
}

/// `dst[c·dst_stride + r] = src[r·src_stride + c]` for `r < rows`, `c < cols`, 16 columns at a
/// time so that the 16 destination rows being written stay in L1.
fn transpose_tiled(src: &[f32], rows: usize, cols: usize, src_stride: usize, dst: &mut [f32], dst_stride: usize) {
    for c0 in (0..cols).step_by(16) {
        for r in 0..rows {
            for c in c0..(c0 + 16).min(cols) {
                dst[c * dst_stride + r] = src[r * src_stride + c];
            }
        }
    }
}

/// [`transpose_tiled`] with 8×8 tiles transposed in AVX registers (the unpack / shuffle /
/// permute sequence); the edges that do not fill a tile go element by element.
///
/// # Safety
/// The CPU must support AVX.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn transpose_avx(src: &[f32], rows: usize, cols: usize, src_stride: usize, dst: &mut [f32], dst_stride: usize) {
    use std::arch::x86_64::*;
    let (full_r, full_c) = (rows / 8 * 8, cols / 8 * 8);
    assert!(rows == 0 || cols == 0 || ((rows - 1) * src_stride + cols <= src.len() && (cols - 1) * dst_stride + rows <= dst.len()));
    // Column blocks outside: the 8 destination rows being written and the source lines being
    // read (64 bytes each, 8 columns at a time) both stay in L1.
    for c0 in (0..full_c).step_by(8) {
        for r0 in (0..full_r).step_by(8) {
            // SAFETY: rows r0..r0+8 and columns c0..c0+8 lie inside `src`, and destination rows
            // c0..c0+8, columns r0..r0+8 inside `dst` (the assert above); unaligned loads/stores.
            unsafe {
                let r = |k: usize| _mm256_loadu_ps(src.as_ptr().add((r0 + k) * src_stride + c0));
                let (r0v, r1, r2, r3, r4, r5, r6, r7) = (r(0), r(1), r(2), r(3), r(4), r(5), r(6), r(7));
                let (t0, t1) = (_mm256_unpacklo_ps(r0v, r1), _mm256_unpackhi_ps(r0v, r1));
                let (t2, t3) = (_mm256_unpacklo_ps(r2, r3), _mm256_unpackhi_ps(r2, r3));
                let (t4, t5) = (_mm256_unpacklo_ps(r4, r5), _mm256_unpackhi_ps(r4, r5));
                let (t6, t7) = (_mm256_unpacklo_ps(r6, r7), _mm256_unpackhi_ps(r6, r7));
                let (u0, u1) = (_mm256_shuffle_ps::<0x44>(t0, t2), _mm256_shuffle_ps::<0xEE>(t0, t2));
                let (u2, u3) = (_mm256_shuffle_ps::<0x44>(t1, t3), _mm256_shuffle_ps::<0xEE>(t1, t3));
                let (u4, u5) = (_mm256_shuffle_ps::<0x44>(t4, t6), _mm256_shuffle_ps::<0xEE>(t4, t6));
                let (u6, u7) = (_mm256_shuffle_ps::<0x44>(t5, t7), _mm256_shuffle_ps::<0xEE>(t5, t7));
                let out = [
                    _mm256_permute2f128_ps::<0x20>(u0, u4),
                    _mm256_permute2f128_ps::<0x20>(u1, u5),
                    _mm256_permute2f128_ps::<0x20>(u2, u6),
                    _mm256_permute2f128_ps::<0x20>(u3, u7),
                    _mm256_permute2f128_ps::<0x31>(u0, u4),
                    _mm256_permute2f128_ps::<0x31>(u1, u5),
                    _mm256_permute2f128_ps::<0x31>(u2, u6),
                    _mm256_permute2f128_ps::<0x31>(u3, u7),
                ];
                for (k, v) in out.into_iter().enumerate() {
                    _mm256_storeu_ps(dst.as_mut_ptr().add((c0 + k) * dst_stride + r0), v);
                }
            }
        }
    }
    for r in 0..rows {
        let edge_columns = if r < full_r { full_c..cols } else { 0..cols };
        for c in edge_columns {
            dst[c * dst_stride + r] = src[r * src_stride + c];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_transposes_agree() {
        for (rows, cols, src_stride, dst_stride) in [(64, 784, 784, 64), (13, 19, 19, 64), (8, 8, 8, 8), (300, 61, 64, 300), (5, 3, 4, 9)] {
            let src: Vec<f32> = (0..rows * src_stride).map(|i| i as f32).collect();
            let mut a = vec![-1.0f32; cols * dst_stride];
            transpose_tiled(&src, rows, cols, src_stride, &mut a, dst_stride);
            for r in 0..rows {
                for c in 0..cols {
                    assert_eq!(a[c * dst_stride + r], src[r * src_stride + c]);
                }
            }
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx") {
                let mut b = vec![-1.0f32; cols * dst_stride];
                // SAFETY: AVX was detected.
                unsafe { transpose_avx(&src, rows, cols, src_stride, &mut b, dst_stride) };
                assert_eq!(a, b, "{rows}×{cols}");
            }
        }
    }

    #[test]
    fn matches_the_dense_product() {
        let (n, d_in, d_out) = (70, 13, 9);
        let w: Vec<f32> = (0..d_in * d_out).map(|i| if i % 3 == 0 { (i as f32 * 0.71).sin() } else { 0.0 }).collect();
        let x: Vec<f32> = (0..n * d_in).map(|i| if i % 4 == 1 { 0.0 } else { (i as f32 * 0.13).cos() }).collect();
        let b: Vec<f32> = (0..d_out).map(|j| j as f32 * 0.1).collect();
        let y = CsrLinear::from_dense(&w, d_in, d_out, Some(b.clone())).forward(&x, n);
        for r in 0..n {
            for j in 0..d_out {
                let dense: f32 = (0..d_in).map(|i| x[r * d_in + i] * w[i * d_out + j]).sum::<f32>() + b[j];
                assert!((y[r * d_out + j] - dense).abs() < 1e-5, "({r}, {j}): {} vs {dense}", y[r * d_out + j]);
            }
        }
    }
}

/// The sparse layers of one forward pass, by linear point (`None`: computed dense).
pub struct SparseLinears(pub std::sync::Arc<Vec<Option<std::sync::Arc<CsrLinear>>>>);

impl plasticity_core::Hook for SparseLinears {
    fn replace_linear(&self, point: usize, _layer: &burn::nn::Linear, x: &burn::tensor::Tensor<2>) -> Option<burn::tensor::Tensor<2>> {
        let csr = self.0.get(point)?.as_ref()?;
        let [n, _] = x.dims();
        // `x + 0` is a new tensor that nothing else holds, so reading it moves its buffer out;
        // reading `x` itself (shared with the caller) copies it, several times over on flex.
        // Values are equal.
        let data = x.clone().add_scalar(0.0).into_data().convert::<f32>();
        let y = match data.as_slice::<f32>() {
            Ok(values) => csr.forward(values, n),
            Err(_) => csr.forward(&plasticity_core::host_values(x.clone()), n),
        };
        Some(burn::tensor::Tensor::from_data(burn::tensor::TensorData::new(y, [n, csr.d_out()]), &x.device()))
    }
}
