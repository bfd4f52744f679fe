//! Erdős–Rényi-Kernel initial densities (spec reparam-prune.md §4.5; GraNet `core.py`
//! l.256-323): `density_l = ε·(Σ shape_l)/(Π shape_l)`, ε chosen so that the layers keep
//! `D·Σ N_l` weights in all; while some layer would exceed density 1, the layers with the
//! largest raw ratio are made dense and ε is solved again.

/// The density of each layer (`shapes`: each weight's shape) for overall density `density`.
pub fn erk_densities(shapes: &[Vec<usize>], density: f64) -> Vec<f64> {
    let raw: Vec<f64> = shapes
        .iter()
        .map(|s| s.iter().sum::<usize>() as f64 / s.iter().product::<usize>().max(1) as f64)
        .collect();
    let count: Vec<f64> = shapes.iter().map(|s| s.iter().product::<usize>() as f64).collect();
    let mut dense = vec![false; shapes.len()];
    loop {
        let (mut rhs, mut divisor) = (0.0, 0.0);
        for l in 0..shapes.len() {
            if dense[l] {
                rhs -= count[l] * (1.0 - density);
            } else {
                rhs += count[l] * density;
                divisor += raw[l] * count[l];
            }
        }
        if divisor == 0.0 {
            return vec![1.0; shapes.len()];
        }
        let epsilon = rhs / divisor;
        let max = (0..shapes.len()).filter(|&l| !dense[l]).map(|l| raw[l]).fold(f64::MIN, f64::max);
        if max * epsilon > 1.0 {
            for l in 0..shapes.len() {
                if !dense[l] && raw[l] == max {
                    dense[l] = true;
                }
            }
        } else {
            return (0..shapes.len()).map(|l| if dense[l] { 1.0 } else { epsilon * raw[l] }).collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// LeNet-300-100 at density 0.1: raw (784+300)/(784·300), (300+100)/(300·100), (100+10)/1000;
    /// the output layer would exceed 1 (ε·0.11 > 1), so it is dense and ε is solved on the rest.
    #[test]
    fn lenet_300_100_at_ten_percent() {
        let shapes = vec![vec![784, 300], vec![300, 100], vec![100, 10]];
        let d = erk_densities(&shapes, 0.1);
        let n = [235_200.0, 30_000.0, 1_000.0];
        let total: f64 = n.iter().sum();
        assert_eq!(d[2], 1.0, "{d:?}");
        let raw = [1084.0 / 235_200.0, 400.0 / 30_000.0];
        let eps = (0.1 * total - 1_000.0) / (raw[0] * n[0] + raw[1] * n[1]);
        assert!((d[0] - eps * raw[0]).abs() < 1e-12 && (d[1] - eps * raw[1]).abs() < 1e-12, "{d:?}");
        let kept: f64 = d.iter().zip(&n).map(|(d, n)| d * n).sum();
        assert!((kept - 0.1 * total).abs() < 1e-6, "the budget is met: {kept}");
    }

    /// The CNN (conv 5×5 ×8, conv 5×5 ×16, fc 256 → 120, output 120 → 10) at density 0.1: no
    /// layer exceeds 1, so ε = D·ΣN / Σ(Σshape) = 3532 / 559 and density_l = ε·(Σshape)/(Πshape).
    #[test]
    fn the_cnn_at_ten_percent() {
        let shapes = vec![vec![8, 1, 5, 5], vec![16, 8, 5, 5], vec![256, 120], vec![120, 10]];
        let d = erk_densities(&shapes, 0.1);
        let eps = 3532.0 / 559.0;
        let expected = [eps * 19.0 / 200.0, eps * 34.0 / 3200.0, eps * 376.0 / 30720.0, eps * 130.0 / 1200.0];
        for (a, b) in d.iter().zip(expected) {
            assert!((a - b).abs() < 1e-12, "{d:?} vs {expected:?}");
        }
    }
}
