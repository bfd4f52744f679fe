//! The EWC penalty, its gradient and online EWC's importance on the golden vectors of
//! ../shared/specs/golden_values.out ("EWC penalty (lambda/2 * sum F (theta-theta*)^2) and its
//! gradient"; "online EWC").

use burn::tensor::{Device, Tensor, TensorData};
use plasticity_continual::ewc::{Anchor, Convention, consolidate};

fn tensor(v: &[f32], device: &Device) -> Tensor<1> {
    Tensor::from_data(TensorData::new(v.to_vec(), [v.len()]), device)
}

fn values(t: Tensor<1>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
}

fn assert_close(got: &[f32], want: &[f32], what: &str) {
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= 1e-6 * w.abs().max(1.0), "{what}: {got:?} vs {want:?}");
    }
}

/// λ = 100, F = [0.5, 0, 2], θ = [1, 2, −1], θ* = [0.8, 0, −1.5]: penalty 26, gradient
/// λ·F·(θ − θ*) = [10, 0, 100]; Avalanche's convention (no ½) doubles both.
#[test]
fn penalty_and_gradient() {
    let device = Device::flex().autodiff();
    let anchor = Anchor {
        importance: tensor(&[0.5, 0.0, 2.0], &device),
        theta_star: tensor(&[0.8, 0.0, -1.5], &device),
    };
    for (convention, factor) in [(Convention::Half, 1.0), (Convention::Avalanche, 2.0)] {
        let theta = tensor(&[1.0, 2.0, -1.0], &device).require_grad();
        let penalty = anchor.penalty(theta.clone(), 100.0, None, convention);
        assert_close(&values(penalty.clone().inner()), &[26.0 * factor], "penalty");
        let grads = penalty.backward();
        let grad = theta.grad(&grads).unwrap();
        assert_close(&values(grad), &[10.0 * factor, 0.0, 100.0 * factor], "gradient");
    }
}

/// γ = 0.9, F₁ = [1, 0.5], F₂ = [0.2, 0.4]: F̃₂ = γ·F₁ + F₂ = [1.1, 0.85]; at use, the half
/// convention scales by λ/2·γ (van de Ven), Avalanche's by λ.
#[test]
fn online_importance() {
    let device = Device::flex();
    let f1 = consolidate(None, tensor(&[1.0, 0.5], &device), 0.9);
    let f2 = consolidate(Some(f1), tensor(&[0.2, 0.4], &device), 0.9);
    assert_close(&values(f2.clone()), &[1.1, 0.85], "F̃₂");
    let anchor = Anchor {
        importance: f2,
        theta_star: tensor(&[0.0, 0.0], &device),
    };
    let theta = tensor(&[1.0, 1.0], &device);
    let half = values(anchor.penalty(theta.clone(), 10.0, Some(0.9), Convention::Half))[0];
    let avalanche = values(anchor.penalty(theta, 10.0, Some(0.9), Convention::Avalanche))[0];
    assert_close(&[half, avalanche], &[5.0 * 0.9 * 1.95, 10.0 * 1.95], "online penalty");
}
