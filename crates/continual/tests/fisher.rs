//! The Fisher estimators against PyTorch on a one-layer model: a Linear 3 → 2 with fixed
//! weights, four examples. The expected values were computed in float64 with
//! `torch.autograd.grad` on the same weights and data (per example for `exact` and
//! `empirical`, averaged over the 4 examples; for `batched`, the squared gradient of each
//! 2-example batch's mean cross-entropy, averaged over the 2 batches).

mod common;

use burn::tensor::{Device, Tensor};
use common::{Four, model};
use plasticity_continual::ewc::{FisherEstimator, fisher};

fn values(t: &Tensor<1>) -> Vec<f32> {
    t.clone().into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
}

#[test]
fn exact_empirical_and_batched_match_pytorch() {
    let device = Device::flex().autodiff();
    let m = model(&device);
    let cases: [(FisherEstimator, [f32; 3], f32); 3] = [
        (FisherEstimator::Exact, [0.115237867, 0.067680999, 0.087178841], 0.207906828),
        (FisherEstimator::Empirical, [0.049422709, 0.027650325, 0.032481396], 0.106186820),
        (FisherEstimator::Batched, [0.040982005, 0.012964502, 0.028934059], 0.004820056),
    ];
    for (estimator, weight_rows, bias) in cases {
        let f = fisher(&m, &Four, estimator, None, 2, &device);
        // Burn's weight is [in, out]: each input row's two entries are equal here (two classes).
        let w: Vec<f32> = weight_rows.iter().flat_map(|&v| [v, v]).collect();
        for (path, want) in [("layer.weight", w), ("layer.bias", vec![bias, bias])] {
            let got = values(&f[path]);
            for (g, e) in got.iter().zip(&want) {
                assert!((g - e).abs() <= 1e-6, "{estimator:?} {path}: {got:?} vs {want:?}");
            }
        }
    }
}

/// `sampled` draws one label per example from the model: its mean over many draws approaches
/// the exact Fisher (each draw is one term of the exact sum).
#[test]
fn sampled_is_an_unbiased_draw_of_exact() {
    let device = Device::flex().autodiff();
    device.seed(11);
    let m = model(&device);
    let exact = values(&fisher(&m, &Four, FisherEstimator::Exact, None, 2, &device)["layer.bias"]);
    let draws = 400;
    let mut mean = [0.0f32; 2];
    for _ in 0..draws {
        let s = values(&fisher(&m, &Four, FisherEstimator::Sampled, None, 2, &device)["layer.bias"]);
        for (m, v) in mean.iter_mut().zip(s) {
            *m += v / draws as f32;
        }
    }
    for (m, e) in mean.iter().zip(&exact) {
        assert!((m - e).abs() <= 0.1 * e, "sampled mean {mean:?} vs exact {exact:?}");
    }
}

/// `samples` limits the per-example estimators to the first examples.
#[test]
fn samples_limits_the_examples() {
    let device = Device::flex().autodiff();
    let m = model(&device);
    let two = values(&fisher(&m, &Four, FisherEstimator::Empirical, Some(2), 2, &device)["layer.bias"]);
    let all = values(&fisher(&m, &Four, FisherEstimator::Empirical, None, 2, &device)["layer.bias"]);
    assert!((two[0] - all[0]).abs() > 1e-4, "{two:?} vs {all:?}");
}
