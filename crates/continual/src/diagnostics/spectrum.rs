//! Singular values of a feature matrix, and the effective rank built on them.
//!
//! The singular values of `F: [n, d]` are the square roots of the eigenvalues of the smaller
//! Gram matrix (`FᵀF: [d, d]` or `FFᵀ: [n, n]`). The Gram matrix's eigenvalues come from a
//! Householder reduction to tridiagonal form followed by the implicit QL iteration with
//! Wilkinson shifts (eigenvalues only), in f64 on the host.

/// Eigenvalues of the symmetric `n × n` matrix `a` (row-major; only its values are read as a
/// symmetric matrix), in no particular order.
pub fn symmetric_eigenvalues(mut a: Vec<f64>, n: usize) -> Vec<f64> {
    assert_eq!(a.len(), n * n, "a symmetric matrix of {n} × {n}");
    let (mut d, mut e) = tridiagonalize(&mut a, n);
    tridiagonal_ql(&mut d, &mut e);
    d
}

/// Householder reduction of `a` to a tridiagonal matrix with the same eigenvalues: its diagonal
/// `d: [n]` and subdiagonal `e: [n]` (`e[i]` couples `i` and `i + 1`; `e[n − 1] = 0`).
fn tridiagonalize(a: &mut [f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut e = vec![0.0; n];
    for k in 0..n.saturating_sub(2) {
        // x = a[k+1.., k]; reflect it onto α·e₁ with H = I − 2vvᵀ, ‖v‖ = 1.
        let m = n - k - 1;
        let x: Vec<f64> = (0..m).map(|i| a[(k + 1 + i) * n + k]).collect();
        let norm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm == 0.0 {
            continue;
        }
        let alpha = if x[0] > 0.0 { -norm } else { norm };
        let mut v = x;
        v[0] -= alpha;
        let v_norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if v_norm == 0.0 {
            e[k] = alpha;
            continue;
        }
        v.iter_mut().for_each(|x| *x /= v_norm);
        // B = a[k+1.., k+1..] ← HBH = B − 2vwᵀ − 2wvᵀ with p = Bv, w = p − (vᵀp)v.
        let at = |i: usize, j: usize| (k + 1 + i) * n + (k + 1 + j);
        let p: Vec<f64> = (0..m).map(|i| (0..m).map(|j| a[at(i, j)] * v[j]).sum()).collect();
        let vp: f64 = v.iter().zip(&p).map(|(a, b)| a * b).sum();
        let w: Vec<f64> = p.iter().zip(&v).map(|(p, v)| p - vp * v).collect();
        for i in 0..m {
            for j in 0..m {
                a[at(i, j)] -= 2.0 * (v[i] * w[j] + w[i] * v[j]);
            }
        }
        e[k] = alpha;
        for i in 0..m {
            a[(k + 1 + i) * n + k] = 0.0;
            a[k * n + k + 1 + i] = 0.0;
        }
    }
    if n >= 2 {
        e[n - 2] = a[(n - 1) * n + (n - 2)];
    }
    let d = (0..n).map(|i| a[i * n + i]).collect();
    (d, e)
}

/// Eigenvalues of the symmetric tridiagonal matrix (`d`, `e`), into `d`: implicit QL with
/// Wilkinson shifts, deflating where a subdiagonal element is negligible against its diagonal
/// neighbours.
fn tridiagonal_ql(d: &mut [f64], e: &mut [f64]) {
    let n = d.len();
    for l in 0..n {
        for _ in 0..100 {
            // The first m ≥ l with a negligible e[m] splits off the block l..=m.
            let mut m = l;
            while m + 1 < n {
                let scale = d[m].abs() + d[m + 1].abs();
                if e[m].abs() <= f64::EPSILON * scale {
                    break;
                }
                m += 1;
            }
            if m == l {
                break;
            }
            // Wilkinson shift from the top 2 × 2 block, then a QL sweep from m − 1 up to l.
            let g = (d[l + 1] - d[l]) / (2.0 * e[l]);
            let r = g.hypot(1.0);
            let mut g = d[m] - d[l] + e[l] / (g + r.copysign(g));
            let (mut s, mut c, mut p) = (1.0, 1.0, 0.0);
            let mut underflow = false;
            for i in (l..m).rev() {
                let f = s * e[i];
                let b = c * e[i];
                let r = f.hypot(g);
                e[i + 1] = r;
                if r == 0.0 {
                    d[i + 1] -= p;
                    e[m] = 0.0;
                    underflow = true;
                    break;
                }
                s = f / r;
                c = g / r;
                let g2 = d[i + 1] - p;
                let r = (d[i] - g2) * s + 2.0 * c * b;
                p = s * r;
                d[i + 1] = g2 + p;
                g = c * r - b;
            }
            if underflow {
                continue;
            }
            d[l] -= p;
            e[l] = g;
            e[m] = 0.0;
        }
    }
}

/// Singular values of `f: [n, d]` (row-major), largest first.
pub fn singular_values(f: &[f32], n: usize, d: usize) -> Vec<f64> {
    assert_eq!(f.len(), n * d, "a feature matrix of {n} × {d}");
    let k = n.min(d);
    let mut gram = vec![0.0f64; k * k];
    if d <= n {
        // FᵀF: [d, d]
        for row in f.chunks_exact(d) {
            for i in 0..d {
                let ri = row[i] as f64;
                if ri == 0.0 {
                    continue;
                }
                for j in i..d {
                    gram[i * d + j] += ri * row[j] as f64;
                }
            }
        }
    } else {
        // FFᵀ: [n, n]
        for i in 0..n {
            for j in i..n {
                let (a, b) = (&f[i * d..(i + 1) * d], &f[j * d..(j + 1) * d]);
                gram[i * n + j] = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
            }
        }
    }
    for i in 0..k {
        for j in 0..i {
            gram[i * k + j] = gram[j * k + i];
        }
    }
    let mut sv: Vec<f64> = symmetric_eigenvalues(gram, k).into_iter().map(|l| l.max(0.0).sqrt()).collect();
    sv.sort_by(|a, b| b.total_cmp(a));
    sv
}

/// Roy and Vetterli's effective rank of a matrix with singular values `sv`: `exp(H(p))`,
/// `p_k = σ_k / Σσ`, `H(p) = −Σ p_k ln p_k` (0 ln 0 = 0), as in the loss-of-plasticity code.
/// 0 for the zero matrix.
pub fn effective_rank(sv: &[f64]) -> f64 {
    let total: f64 = sv.iter().map(|s| s.abs()).sum();
    if total == 0.0 {
        return 0.0;
    }
    let entropy: f64 = sv
        .iter()
        .map(|s| s.abs() / total)
        .filter(|&p| p > 0.0)
        .map(|p| -p * p.ln())
        .sum();
    entropy.exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f64], b: &[f64], tol: f64) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= tol, "{a:?} vs {b:?}");
        }
    }

    fn sorted(mut v: Vec<f64>) -> Vec<f64> {
        v.sort_by(f64::total_cmp);
        v
    }

    #[test]
    fn eigenvalues_of_known_matrices() {
        close(&sorted(symmetric_eigenvalues(vec![2.0, 1.0, 1.0, 2.0], 2)), &[1.0, 3.0], 1e-12);
        close(&sorted(symmetric_eigenvalues(vec![5.0], 1)), &[5.0], 0.0);
        // The path graph's Laplacian-like tridiagonal 2, −1: eigenvalues 2 − 2cos(kπ/(n+1)).
        let n = 6;
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            a[i * n + i] = 2.0;
            if i + 1 < n {
                a[i * n + i + 1] = -1.0;
                a[(i + 1) * n + i] = -1.0;
            }
        }
        let expected: Vec<f64> = (1..=n).map(|k| 2.0 - 2.0 * (k as f64 * std::f64::consts::PI / (n + 1) as f64).cos()).collect();
        close(&sorted(symmetric_eigenvalues(a, n)), &expected, 1e-12);
        // A dense matrix QΛQᵀ with a known spectrum (Q a Householder reflection).
        let lambda = [4.0, -1.0, 0.5, 0.0, 9.0];
        let u = [0.3, -0.1, 0.7, 0.2, -0.6];
        let uu: f64 = u.iter().map(|x| x * x).sum();
        let q = |i: usize, j: usize| f64::from(i == j) - 2.0 * u[i] * u[j] / uu;
        let a: Vec<f64> = (0..25).map(|ij| (0..5).map(|k| q(ij / 5, k) * lambda[k] * q(ij % 5, k)).sum()).collect();
        close(&sorted(symmetric_eigenvalues(a, 5)), &sorted(lambda.to_vec()), 1e-12);
    }

    #[test]
    fn a_large_matrix_keeps_its_trace_and_frobenius_norm() {
        // A 64 × 64 symmetric matrix from a fixed LCG: Σλ = trace, Σλ² = ‖A‖²_F.
        let n = 64;
        let mut state = 12345u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                let v = next();
                a[i * n + j] = v;
                a[j * n + i] = v;
            }
        }
        let trace: f64 = (0..n).map(|i| a[i * n + i]).sum();
        let frobenius: f64 = a.iter().map(|x| x * x).sum();
        let eig = symmetric_eigenvalues(a, n);
        assert!((eig.iter().sum::<f64>() - trace).abs() < 1e-10);
        assert!((eig.iter().map(|x| x * x).sum::<f64>() - frobenius).abs() < 1e-10);
    }

    #[test]
    fn singular_values_both_ways_round() {
        // [[3, 0], [0, 1], [0, 0]]: σ = 3, 1, whether the Gram matrix is 2 × 2 or 3 × 3.
        let f = [3.0, 0.0, 0.0, 1.0, 0.0, 0.0];
        close(&singular_values(&f, 3, 2), &[3.0, 1.0], 1e-12);
        let ft = [3.0, 0.0, 0.0, 0.0, 1.0, 0.0];
        close(&singular_values(&ft, 2, 3), &[3.0, 1.0], 1e-12);
    }

    #[test]
    fn effective_rank_of_constructed_spectra() {
        // Equal singular values: the rank itself; rank one: 1; the zero matrix: 0.
        close(&[effective_rank(&[2.0; 7])], &[7.0], 1e-12);
        close(&[effective_rank(&[5.0, 0.0, 0.0])], &[1.0], 0.0);
        assert_eq!(effective_rank(&[0.0, 0.0]), 0.0);
        // σ = (3, 1): p = (3/4, 1/4), exp(−(¾ ln ¾ + ¼ ln ¼)) = 1.7547654…
        close(&[effective_rank(&[3.0, 1.0])], &[1.754_765_350_603_323_2], 1e-12);
    }
}
