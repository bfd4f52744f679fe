//! Gradients of the reparameterizations against central finite differences, in f64 (the flex
//! device of this test binary computes in f64): for every element of `v`, `g`, `w` and `ln θ`,
//! `|autodiff − (L(x+ε) − L(x−ε)) / 2ε| ≤ 1e-2·|autodiff| + 1e-7` with `ε = 1e-3`.
//!
//! The loss is `L = Σ tanh(W) ⊙ R` for a fixed random `R`, so that every element of the
//! reparameterized weight `W` matters and the loss is not linear in it.

use burn::module::{Param, Reparameterization};
use burn::tensor::{Device, Distribution, FloatDType, IntDType, Tensor, TensorData};
use plasticity_reparam::{CompanderForm, NormLayout, WeightNorm, compander::Compander};

const EPS: f64 = 1e-3;

/// The flex device computing in f64 (set once for this process, before any tensor exists).
fn device() -> Device {
    let mut device = Device::flex();
    let _ = device.configure((FloatDType::F64, IntDType::I32));
    assert_eq!(device.settings().float_dtype, FloatDType::F64, "this test runs in f64");
    device
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

fn tensor<const D: usize>(data: Vec<f64>, shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(data, shape), device)
}

/// `Σ tanh(w) ⊙ r`.
fn loss<const D: usize>(w: Tensor<D>, r: Tensor<D>) -> Tensor<1> {
    (w.tanh() * r).sum()
}

/// Checks the autodiff gradient `grad` of `f` at `x` against central differences, element by
/// element; `f` maps the flattened values of `x` to the loss.
fn check(what: &str, x: &[f64], grad: &[f64], f: impl Fn(Vec<f64>) -> f64) {
    assert_eq!(x.len(), grad.len(), "{what}: gradient shape");
    let mut worst = 0.0f64;
    for i in 0..x.len() {
        let at = |delta: f64| {
            let mut y = x.to_vec();
            y[i] += delta;
            f(y)
        };
        let numeric = (at(EPS) - at(-EPS)) / (2.0 * EPS);
        let error = (numeric - grad[i]).abs();
        assert!(
            error <= 1e-2 * grad[i].abs() + 1e-7,
            "{what}[{i}]: autodiff {} vs finite difference {numeric}",
            grad[i]
        );
        worst = worst.max(error / grad[i].abs().max(1e-12));
    }
    assert!(grad.iter().any(|g| g.abs() > 1e-6), "{what}: all gradients are zero");
    eprintln!("{what}: worst relative error {worst:.2e} over {} elements", x.len());
}

/// `v` and `g` of a weight-norm weight of `shape` with `layout`.
fn check_weight_norm<const D: usize>(what: &str, shape: [usize; D], layout: NormLayout) {
    let device = device();
    let ad = device.clone().autodiff();
    let v0 = values(Tensor::<D>::random(shape, Distribution::Normal(0.0, 1.0), &device));
    let r = Tensor::<D>::random(shape, Distribution::Normal(0.0, 1.0), &device);
    let units = WeightNorm::for_weight(tensor(v0.clone(), shape, &device), layout).g.val().dims()[0];
    // g away from ‖v‖ so that the check is not at the identity.
    let g0 = values(Tensor::<1>::random([units], Distribution::Uniform(0.5, 2.0), &device));
    let eval = |v: Vec<f64>, g: Vec<f64>| {
        let wn = WeightNorm {
            g: Param::from_tensor(tensor(g, [units], &device)),
            layout,
        };
        values(loss(wn.apply(tensor(v, shape, &device)), r.clone()))[0]
    };

    let v = tensor(v0.clone(), shape, &ad).require_grad();
    let wn = WeightNorm {
        g: Param::from_tensor(tensor(g0.clone(), [units], &ad)),
        layout,
    };
    let grads = loss(wn.apply(v.clone()), r.clone().to_device(&ad)).backward();
    let grad_v = values(v.grad(&grads).expect("v has a gradient"));
    let grad_g = values(wn.g.val().grad(&grads).expect("g has a gradient"));
    check(&format!("{what} v"), &v0, &grad_v, |v| eval(v, g0.clone()));
    check(&format!("{what} g"), &g0, &grad_g, |g| eval(v0.clone(), g));
}

#[test]
fn weight_norm_gradients_match_finite_differences() {
    check_weight_norm("linear [d_in, d_out]", [7, 5], NormLayout::Columns);
    check_weight_norm("conv [c_out, c_in, k, k]", [4, 3, 3, 3], NormLayout::Rows);
    check_weight_norm("whole tensor", [6, 4], NormLayout::Whole);
}

/// `w` and `ln θ` of a compander weight with the default `θ` of `form`, moved off it by a factor.
fn check_compander(form: CompanderForm) {
    let device = device();
    let ad = device.clone().autodiff();
    let function = form.function();
    let shape = [6, 5];
    let scale = 0.3;
    let w0 = values(Tensor::<2>::random(shape, Distribution::Normal(0.0, scale), &device));
    let r = Tensor::<2>::random(shape, Distribution::Normal(0.0, 1.0), &device);
    let theta0: Vec<f64> = function.parameters().iter().map(|(_, t)| (t * 1.3).ln()).collect();
    let k = theta0.len();
    let compander = |log_theta: Tensor<1>| Compander {
        log_theta: Param::from_tensor(log_theta),
        scale,
        function: function.clone(),
    };
    let eval = |w: Vec<f64>, log_theta: Vec<f64>| {
        let c = compander(tensor(log_theta, [k], &device));
        values(loss(c.apply(tensor(w, shape, &device)), r.clone()))[0]
    };

    let w = tensor(w0.clone(), shape, &ad).require_grad();
    let c = compander(tensor(theta0.clone(), [k], &ad));
    let grads = loss(c.apply(w.clone()), r.clone().to_device(&ad)).backward();
    let grad_w = values(w.grad(&grads).expect("w has a gradient"));
    let grad_theta = values(c.log_theta.val().grad(&grads).expect("ln θ has a gradient"));
    let name = function.name();
    check(&format!("{name} w"), &w0, &grad_w, |w| eval(w, theta0.clone()));
    check(&format!("{name} ln θ"), &theta0, &grad_theta, |t| eval(w0.clone(), t));
}

#[test]
fn compander_gradients_match_finite_differences() {
    for form in [CompanderForm::MuLaw, CompanderForm::Saturating, CompanderForm::Power] {
        check_compander(form);
    }
}
