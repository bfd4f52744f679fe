//! Both reparameterizations attached through the Method API on the MLP (Linear), the CNN
//! (Conv2d and Linear) and a model defined only in these tests: the function is unchanged at
//! attach (`f(f⁻¹(w))` within 1e-6 for the compander), the new parameters train along with the
//! stored weights, `materialize()` (what `plasticity merge` runs) keeps the outputs within 1e-5,
//! and the census roles and no-decay rules are the documented ones.

mod common;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor};
use common::{Net, attach, cnn, effective_weights, inputs, max_abs_diff, mlp, values};
use plasticity_core::{Method, ParamInfo, PlasticModel, param_infos};
use plasticity_reparam::compander::CompanderMethod;
use plasticity_reparam::weight_norm::WeightNormMethod;
use plasticity_reparam::{CompanderConfig, CompanderForm, WeightNormConfig};
use plasticity_reparam::weight_norm::NormOver;

fn autodiff() -> Device {
    Device::flex().autodiff()
}

/// `max |a − b| ≤ tolerance · max(1, max |b|)`.
fn assert_close<const D: usize>(a: Tensor<D>, b: Tensor<D>, tolerance: f32, what: &str) {
    let scale = values(b.clone()).iter().fold(1.0f32, |m, v| m.max(v.abs()));
    let diff = max_abs_diff(a, b);
    assert!(diff <= tolerance * scale, "{what}: max |diff| = {diff:e} > {tolerance:e} × {scale}");
}

/// What a check expects of the attached model.
struct Expect<'a> {
    /// The reparameterized weights, by module path.
    layers: &'a [&'a str],
    /// The reparameterization's name in parameter paths and its parameter's field.
    field: &'a str,
    /// Elements of the new parameter per layer (`None`: one per output unit).
    per_layer: Option<usize>,
    /// The census role of the new parameters.
    role: &'a str,
    /// Tolerance of the outputs at attach.
    identity: f32,
}

/// Attaches `method` to `model`, checks the attached parameters, trains a few Adam steps and
/// merges; returns the trained model.
fn check<M: PlasticModel<Input = Tensor<2>>>(
    name: &str,
    model: M,
    features: usize,
    method: &mut dyn Method<M>,
    expect: &Expect,
) -> M {
    let device = autodiff();
    let x = inputs(16, features, &device);
    let reference = model.forward(x.clone());
    let before = effective_weights(&model);
    let count = Module::num_params(&model);
    let mut model = attach(method, model, &device);

    assert_close(model.forward(x.clone()), reference.clone(), expect.identity, &format!("{name}: output at attach"));
    for ((path, w), (after_path, w_after)) in before.iter().zip(effective_weights(&model)) {
        assert_eq!(path, &after_path);
        let diff = w.iter().zip(&w_after).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(diff <= expect.identity, "{name}: {path} moved by {diff:e} at attach");
    }

    let infos = param_infos(&model);
    let new: Vec<&ParamInfo> = infos.iter().filter(|p| p.adapter.is_some()).collect();
    let paths: Vec<String> = new.iter().map(|p| p.path.clone()).collect();
    let wanted: Vec<String> = expect.layers.iter().map(|l| format!("{l}.weight.{}", expect.field)).collect();
    assert_eq!(paths, wanted, "{name}: the reparameterization's parameters");
    for p in &new {
        let base = infos.iter().find(|b| b.path == p.adapter.as_ref().unwrap().base).unwrap();
        let units = if base.owner == "Struct:Linear" { base.shape[1] } else { base.shape[0] };
        assert_eq!(p.shape, vec![expect.per_layer.unwrap_or(units)], "{name}: {}", p.path);
        assert_eq!(method.role(p).as_deref(), Some(expect.role), "{name}: role of {}", p.path);
        assert!(method.no_decay(p), "{name}: {} is not decayed", p.path);
        assert!(base.trainable, "{name}: {} trains", base.path);
        assert_eq!(base.reparameterization.as_deref().map(|r| expect.field.starts_with(r)), Some(true));
        assert_eq!(method.role(base), None, "{name}: the stored weight keeps the base role");
    }
    assert_eq!(count + new.iter().map(|p| p.count()).sum::<usize>(), Module::num_params(&model));

    // Adam steps on a regression loss: every trainable tensor gets a gradient.
    let mut optim = AdamConfig::new().init();
    let trainable = infos.iter().filter(|p| p.trainable).count();
    for _ in 0..5 {
        let loss = (model.forward(x.clone()) - 1.0).powi_scalar(2).mean();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        assert_eq!(grads.len(), trainable, "{name}: gradient entries");
        model = optim.step(1e-2, model, grads);
    }
    let trained = model.forward(x.clone());
    assert!(max_abs_diff(trained.clone(), reference) > 1e-4, "{name}: output changed");
    let moved = param_infos(&model).iter().zip(&infos).all(|(a, b)| a.path == b.path);
    assert!(moved, "{name}: same parameters after training");

    let merged = model.valid().materialize();
    let merged_infos = param_infos(&merged);
    assert!(merged_infos.iter().all(|p| p.adapter.is_none() && p.reparameterization.is_none()), "{name}: merged is plain");
    assert_eq!(Module::num_params(&merged), count, "{name}: merged has the original parameters");
    assert_close(merged.forward(x.inner()), trained.inner(), 1e-5, &format!("{name}: merge"));
    model
}

const MLP_LAYERS: [&str; 3] = ["hidden.0", "hidden.1", "output"];
const CNN_LAYERS: [&str; 4] = ["conv1", "conv2", "fc", "output"];
const NET_LAYERS: [&str; 4] = ["stem", "blocks.0.proj", "blocks.1.proj", "head"];

fn weight_norm_expect<'a>(layers: &'a [&'a str], per_layer: Option<usize>) -> Expect<'a> {
    Expect {
        layers,
        field: "weight_norm.g",
        per_layer,
        role: "weight-norm gain",
        identity: 1e-5,
    }
}

#[test]
fn weight_norm_on_linear_conv_and_a_test_model() {
    let device = autodiff();
    let wn = || WeightNormMethod::new(WeightNormConfig::default());
    let expect = |layers| weight_norm_expect(layers, None);
    check("mlp", mlp(&device), 784, &mut wn(), &expect(&MLP_LAYERS));
    check("cnn", cnn(&device), 784, &mut wn(), &expect(&CNN_LAYERS));
    check("net", Net::new(&device), 36, &mut wn(), &expect(&NET_LAYERS));
}

#[test]
fn weight_norm_over_the_whole_tensor_has_one_gain() {
    let device = autodiff();
    let config = WeightNormConfig {
        norm: NormOver::Whole,
        ..Default::default()
    };
    let mut method = WeightNormMethod::new(config);
    check("cnn whole", cnn(&device), 784, &mut method, &weight_norm_expect(&CNN_LAYERS, Some(1)));
}

/// After training, every unit's effective weight has norm `g` (per output unit: a Linear's
/// column of `[d_in, d_out]`, a convolution's output channel).
#[test]
fn weight_norm_units_have_norm_g() {
    let device = autodiff();
    let mut method = WeightNormMethod::new(WeightNormConfig::default());
    let model = check("cnn", cnn(&device), 784, &mut method, &weight_norm_expect(&CNN_LAYERS, None));
    let g = |w: &burn::module::Param<Tensor<2>>| {
        values(w.reparameterization::<plasticity_reparam::WeightNorm>().unwrap().g.val())
    };
    let fc = model.fc.weight.val();
    let norms = values(fc.powi_scalar(2).sum_dim(0).sqrt());
    let gains = g(&model.fc.weight);
    for (n, g) in norms.iter().zip(&gains) {
        assert!((n - g).abs() <= 1e-5 * g.abs().max(1.0), "fc: ‖w‖ {n} vs g {g}");
    }
    let conv = model.conv2.weight.val();
    let [c_out, ..] = conv.dims();
    let norms = values(conv.reshape([c_out as i32, -1]).powi_scalar(2).sum_dim(1).sqrt());
    let gains = values(model.conv2.weight.reparameterization::<plasticity_reparam::WeightNorm>().unwrap().g.val());
    for (n, g) in norms.iter().zip(&gains) {
        assert!((n - g).abs() <= 1e-5 * g.abs().max(1.0), "conv2: ‖w‖ {n} vs g {g}");
    }
}

/// A unit whose `v` is all zero outputs zero, not NaN (‖v‖ is clamped at 1e-12).
#[test]
fn weight_norm_of_a_zero_unit_is_zero() {
    let device = autodiff();
    let mut model = mlp(&device);
    model.output.weight = model.output.weight.map(|w| {
        let [d_in, d_out] = w.dims();
        let mask = Tensor::<1>::from_data(
            burn::tensor::TensorData::new((0..d_out).map(|j| if j == 3 { 0.0f32 } else { 1.0 }).collect(), [d_out]),
            &w.device(),
        );
        (w * mask.reshape([1, d_out]).expand([d_in, d_out])).detach().require_grad()
    });
    let mut method = WeightNormMethod::new(WeightNormConfig::default());
    let model = attach(&mut method, model, &device);
    let w = model.output.weight.val();
    let column = values(w.slice([0..32, 3..4]));
    assert!(column.iter().all(|&v| v == 0.0), "{column:?}");
    let y = values(model.forward(inputs(4, 784, &device)));
    assert!(y.iter().all(|v| v.is_finite()));
}

fn compander(form: CompanderForm, learn: bool) -> CompanderMethod {
    CompanderMethod::new(CompanderConfig {
        form,
        learn,
        ..Default::default()
    })
}

/// `f(f⁻¹(w))` within 1e-6 at attach for every form, on every model; θ trains.
#[test]
fn compander_on_linear_conv_and_a_test_model() {
    let device = autodiff();
    for form in [CompanderForm::MuLaw, CompanderForm::Saturating, CompanderForm::Power] {
        let expect = |layers| Expect {
            layers,
            field: "compander.log_theta",
            per_layer: Some(2),
            role: "compander θ",
            identity: 1e-6,
        };
        let name = |m: &str| format!("{m} {form:?}");
        check(&name("mlp"), mlp(&device), 784, &mut compander(form, true), &expect(&MLP_LAYERS));
        check(&name("cnn"), cnn(&device), 784, &mut compander(form, true), &expect(&CNN_LAYERS));
        check(&name("net"), Net::new(&device), 36, &mut compander(form, true), &expect(&NET_LAYERS));
    }
}

/// Without `learn`, θ is frozen: only the raw weights (and biases) train.
#[test]
fn compander_with_fixed_theta_trains_the_raw_weights_only() {
    let device = autodiff();
    let model = attach(&mut compander(CompanderForm::MuLaw, false), mlp(&device), &device);
    let infos = param_infos(&model);
    let theta: Vec<&ParamInfo> = infos.iter().filter(|p| p.adapter.is_some()).collect();
    assert_eq!(theta.len(), 3);
    assert!(theta.iter().all(|p| !p.trainable));
    let loss = model.forward(inputs(8, 784, &device)).powi_scalar(2).mean();
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    assert_eq!(grads.len(), 6, "3 raw weights and 3 biases");
}

/// Learned θ receives gradients and stays positive while a loss pushes it towards zero: 150
/// Adam steps at lr 0.1 on `ln Σ W²` of the output layer (whose gradient in `ln γ` does not
/// fade as γ shrinks), with its raw weights held, shrink γ of the mu-law by orders of
/// magnitude.
#[test]
fn learned_theta_stays_positive() {
    let device = autodiff();
    let mut model = attach(&mut compander(CompanderForm::MuLaw, true), mlp(&device), &device);
    let theta = |m: &plasticity_models::Mlp| {
        let c = m.output.weight.reparameterization::<plasticity_reparam::Compander>().unwrap();
        values(c.log_theta.val().exp())
    };
    let start = theta(&model);
    let mut optim = AdamConfig::new().init();
    for _ in 0..150 {
        let loss = model.output.weight.val().powi_scalar(2).sum().log();
        let grads = loss.backward();
        let log_theta = model.output.weight.reparameterization::<plasticity_reparam::Compander>().unwrap().log_theta.val();
        let g = log_theta.grad(&grads).expect("ln θ receives a gradient");
        assert!(values(g).iter().any(|v| *v != 0.0));
        let mut grads = GradientsParams::from_grads(grads, &model);
        grads.remove::<2>(model.output.weight.id).expect("the raw weight has a gradient");
        model = optim.step(1e-1, model, grads);
    }
    let end = theta(&model);
    assert!(end.iter().all(|t| t.is_finite() && *t > 0.0), "θ = {end:?}");
    assert!(end[0] < start[0] * 1e-4, "γ went from {} to {}", start[0], end[0]);
}

/// `decay_raw = false` keeps the raw weights out of the optimizer's decay; θ never decays.
#[test]
fn compander_no_decay_rules() {
    let device = autodiff();
    for decay_raw in [true, false] {
        let mut method = CompanderMethod::new(CompanderConfig {
            decay_raw,
            ..Default::default()
        });
        let model = attach(&mut method, mlp(&device), &device);
        for p in param_infos(&model) {
            let expected = p.adapter.is_some() || (!decay_raw && p.reparameterization.is_some());
            assert_eq!(Method::<plasticity_models::Mlp>::no_decay(&method, &p), expected, "{} decay_raw={decay_raw}", p.path);
        }
    }
}

/// `effective_weight_decay` adds `λ/2·Σ f(w)²` over the companded weights.
#[test]
fn compander_effective_decay_is_half_lambda_sum_of_squares() {
    let device = autodiff();
    let mut method = CompanderMethod::new(CompanderConfig {
        effective_weight_decay: 0.1,
        ..Default::default()
    });
    let model = attach(&mut method, mlp(&device), &device);
    let modules = plasticity_core::MethodModules::default();
    let penalty = values(method.penalty(&model, &modules).expect("a penalty"))[0];
    let expected: f32 = ["hidden.0.weight", "hidden.1.weight", "output.weight"]
        .iter()
        .map(|path| {
            let (_, w) = effective_weights(&model).into_iter().find(|(p, _)| p == path).unwrap();
            w.iter().map(|v| v * v).sum::<f32>()
        })
        .sum::<f32>()
        * 0.05;
    assert!((penalty - expected).abs() <= 1e-4 * expected, "{penalty} vs {expected}");
}

/// Unknown and out-of-range keys are errors naming the key.
#[test]
fn bad_settings_are_named() {
    let device = autodiff();
    let cx = plasticity_core::AttachContext {
        device: &device,
        total_steps: 1,
        run_dir: None,
    };
    let err = |method: &mut dyn Method<plasticity_models::Mlp>| method.attach(mlp(&device), &cx).err().unwrap().to_string();
    let bad = |config: CompanderConfig| err(&mut CompanderMethod::new(config));
    let e = bad(CompanderConfig {
        beta: Some(0.0),
        ..Default::default()
    });
    assert!(e.contains("reparam.beta = 0") && e.contains("> 0"), "{e}");
    let e = bad(CompanderConfig {
        alpha: Some(0.5),
        ..Default::default()
    });
    assert!(e.contains("reparam.alpha") && e.contains("mu-law form has no `alpha`"), "{e}");
    let e = bad(CompanderConfig {
        form: CompanderForm::Power,
        alpha: Some(1.5),
        ..Default::default()
    });
    assert!(e.contains("reparam.alpha = 1.5") && e.contains("(0, 1)"), "{e}");
    let e = err(&mut WeightNormMethod::new(WeightNormConfig {
        norm: NormOver::Whole,
        data_init: true,
        ..Default::default()
    }));
    assert!(e.contains("reparam.data_init") && e.contains("norm = \"output\""), "{e}");
    let e = err(&mut WeightNormMethod::new(WeightNormConfig {
        init_scale: -1.0,
        ..Default::default()
    }));
    assert!(e.contains("reparam.init_scale = -1"), "{e}");
    let e = err(&mut WeightNormMethod::new(WeightNormConfig {
        target_modules: Some(plasticity_peft::TargetModules::Names(vec!["hidden.7".into()])),
        ..Default::default()
    }));
    assert!(e.contains("reparam (weight-norm)") && e.contains("hidden.7"), "{e}");
    let unknown = serde_json::from_str::<plasticity_reparam::ReparamConfig>(r#"{"method": "compander", "gama": 2.0}"#)
        .unwrap_err()
        .to_string();
    assert!(unknown.contains("gama"), "{unknown}");
}


/// A companding function of the user's own, through the `Companding` trait:
/// `φ(u) = γ·tanh(u/β)` (odd, `φ'(0) = γ/β = 2`, bounded by γ).
#[derive(Debug)]
struct Tanh;

impl plasticity_reparam::Companding for Tanh {
    fn name(&self) -> &'static str {
        "tanh"
    }
    fn parameters(&self) -> Vec<(&'static str, f64)> {
        vec![("gamma", 3.0), ("beta", 1.5)]
    }
    fn forward(&self, u: Tensor<1>, theta: &[Tensor<1>]) -> Tensor<1> {
        (u / theta[1].clone()).tanh() * theta[0].clone()
    }
    fn inverse(&self, v: f64, theta: &[f64]) -> f64 {
        theta[1] * (v / theta[0]).clamp(-0.999_999, 0.999_999).atanh()
    }
}

#[test]
fn a_companding_function_of_ones_own() {
    let device = autodiff();
    let config = CompanderConfig {
        learn: true,
        beta: Some(1.0),
        ..Default::default()
    };
    let mut method = CompanderMethod::with_function(config, std::sync::Arc::new(Tanh));
    let expect = Expect {
        layers: &NET_LAYERS,
        field: "compander.log_theta",
        per_layer: Some(2),
        role: "compander θ",
        identity: 1e-6,
    };
    let model = check("net tanh", Net::new(&device), 36, &mut method, &expect);
    let theta = model.head.weight.reparameterization::<plasticity_reparam::Compander>().unwrap().log_theta.val();
    // β = 1.0 from the config, γ = 3 the function's default; `check`'s 5 Adam steps at lr 1e-2
    // move each ln θ by at most about 5 · 1e-2.
    let log_theta = values(theta);
    let start = [3.0f32.ln(), 1.0f32.ln()];
    let moved: Vec<f32> = log_theta.iter().zip(start).map(|(l, s)| (l - s).abs()).collect();
    assert!(moved.iter().all(|&m| m <= 0.06), "ln θ {log_theta:?} from ln(3, 1): {moved:?}");
    let mut bad = CompanderMethod::with_function(
        CompanderConfig {
            alpha: Some(0.5),
            ..Default::default()
        },
        std::sync::Arc::new(Tanh),
    );
    let cx = plasticity_core::AttachContext {
        device: &device,
        total_steps: 1,
        run_dir: None,
    };
    let e = Method::<Net>::attach(&mut bad, Net::new(&device), &cx).err().unwrap().to_string();
    assert!(e.contains("tanh form has no `alpha`"), "{e}");
}
