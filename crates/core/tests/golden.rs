//! plasticity's optimizers on golden vectors: one 4-element parameter, given gradients, values
//! after each step against references computed in float64 outside this project.
//!
//! - AdamW and AdamW with cautious weight decay: ../shared/specs/golden_values.out (continual.md
//!   §4.2; PyTorch's AdamW convention, the paper's cautious rule).
//! - Adagrad: `torch.optim.Adagrad` (PyTorch 2.15, float64), the script in each case's comment.
//! - CLASSP, both modes: golden_values.out (continual.md §1.6).
//!
//! Each case runs our optimizer in host memory (the fused CPU update) and as tensor ops (the GPU
//! path, on flex), and Burn's where Burn has the rule; all within 1e-6.

use burn::module::{Module, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use plasticity_core::optim::{AdagradConfig, AdamWConfig, ClasspConfig, ClasspMode, Implementation, Optimizer, OptimizerConfig};

#[derive(Module, Debug)]
struct One {
    w: Param<Tensor<1>>,
}

fn tensor(values: &[f64], device: &Device) -> Tensor<1> {
    Tensor::from_data(TensorData::new(values.iter().map(|&v| v as f32).collect::<Vec<_>>(), [values.len()]), device)
}

/// Steps `optim` on `w0` with each gradient in turn; the parameter after every step.
fn trajectory(mut optim: Optimizer, lr: f64, w0: &[f64], grads: &[[f64; 4]]) -> Vec<Vec<f32>> {
    let device = Device::flex().autodiff();
    let mut m = One {
        w: Param::from_tensor(tensor(w0, &device)),
    };
    let mut out = Vec::new();
    for g in grads {
        let mut gp = GradientsParams::new();
        gp.register(m.w.id, tensor(g, &device.clone().inner()));
        m = optim.step(lr, m, gp);
        out.push(m.w.val().into_data().convert::<f32>().try_to_vec::<f32>().unwrap());
    }
    out
}

/// Our host and tensor-op optimizers (and Burn's, when `burn`) against `expected` (one row per
/// step), within 1e-6.
fn check(name: &str, config: OptimizerConfig, burn: Option<OptimizerConfig>, lr: f64, w0: &[f64], grads: &[[f64; 4]], expected: &[[f64; 4]]) {
    let device = Device::flex().autodiff();
    let mut runs = vec![
        ("host", Optimizer::build(&config, Vec::new(), true, &device)),
        ("tensor ops", Optimizer::build(&config, Vec::new(), false, &device)),
    ];
    if let Some(b) = burn {
        runs.push(("Burn's", Optimizer::build(&b, Vec::new(), true, &device)));
    }
    for (label, optim) in runs {
        for (step, (got, want)) in trajectory(optim, lr, w0, grads).iter().zip(expected).enumerate() {
            for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
                let diff = (f64::from(g) - w).abs();
                assert!(diff <= 1e-6, "{name} ({label}) step {} element {i}: {g} vs {w} (|Δ| {diff:e})", step + 1);
            }
        }
    }
}

const CWD_W0: [f64; 4] = [0.5, -0.5, 0.2, -0.2];
const CWD_GRADS: [[f64; 4]; 2] = [[0.1, 0.1, -0.3, -0.3], [0.2, -0.1, -0.2, 0.4]];

fn adamw(cautious: bool, implementation: Implementation) -> OptimizerConfig {
    OptimizerConfig::Adamw(AdamWConfig {
        lr: 0.01,
        weight_decay: 0.5,
        cautious_weight_decay: cautious,
        implementation,
        ..Default::default()
    })
}

/// golden_values.out, "AdamW (PyTorch convention) and AdamW + cautious weight decay": lr 0.01,
/// β (0.9, 0.999), ε 1e-8, λ 0.5. No tie occurs here (no zero weight or first moment): ties are
/// `cautious_ties_follow_burn` below.
#[test]
fn adamw_and_cautious_weight_decay_golden_values() {
    let standard = [[0.487500001, -0.507499999, 0.209, -0.189], [0.475410681, -0.504436183, 0.217658521, -0.189990104]];
    let cautious = [[0.487500001, -0.509999999, 0.21, -0.189], [0.475410681, -0.506923683, 0.219703521, -0.190935104]];
    for (name, on, expected) in [("adamw", false, standard), ("adamw cautious", true, cautious)] {
        let burn = Some(adamw(on, Implementation::Burn));
        check(name, adamw(on, Implementation::Plasticity), burn, 0.01, &CWD_W0, &CWD_GRADS, &expected);
    }
}

/// Ties of cautious decay, as Burn (`(w ≥ 0) ≠ (m ≥ 0)` → no decay) and we do: a zero first
/// moment counts as positive. With `w = −0.2` and a zero gradient (`m = 0`, so no Adam update),
/// the paper's rule `I(u·w ≥ 0)` would decay `w` (to −0.199); ours leaves it at −0.2. A zero
/// weight is decayed by nothing either way.
#[test]
fn cautious_ties_follow_burn() {
    let w0 = [0.5, -0.2, 0.0, 0.3];
    let grads = [[0.1, 0.0, 0.1, 0.0]];
    // Step 1 of AdamW (lr 0.01, λ 0.5): where g ≠ 0 the update is lr·sign(g) = ±0.01.
    let expected = [[0.5 - 0.0025 - 0.01, -0.2, -0.01, 0.3 - 0.0015]];
    let burn = Some(adamw(true, Implementation::Burn));
    check("cautious ties", adamw(true, Implementation::Plasticity), burn, 0.01, &w0, &grads, &expected);
}

/// `torch.optim.Adagrad` on the CLASSP golden gradients (continual.md §1.6):
/// `w = torch.tensor([0.5, -0.3, 0.1, 0.0]); opt = torch.optim.Adagrad([w], lr=0.1, **kw)`,
/// float64, one `step()` per gradient.
#[test]
fn adagrad_matches_pytorch() {
    let w0 = [0.5, -0.3, 0.1, 0.0];
    let grads = [[1.0, 0.2, -0.9, 0.0], [0.8, -1.2, 0.1, 2.0], [-0.6, 0.9, -1.5, 0.3]];
    let adagrad = |lr_decay: f64, weight_decay: f32, implementation| {
        OptimizerConfig::Adagrad(AdagradConfig {
            lr: 0.1,
            lr_decay,
            weight_decay,
            implementation,
            ..Default::default()
        })
    };
    // kw = {}
    let plain = [
        [0.4, -0.4, 0.2, 0.0],
        [0.337530495, -0.301360608, 0.188956847, -0.1],
        [0.379956902, -0.360834282, 0.274566369, -0.114834045],
    ];
    // kw = {"lr_decay": 0.01, "weight_decay": 0.1}
    let decayed = [
        [0.4, -0.4, 0.2, 0.0],
        [0.338149005, -0.301907656, 0.186770066, -0.099009901],
        [0.376194615, -0.357856726, 0.270605917, -0.113083165],
    ];
    for (name, (lr_decay, wd), expected) in [("adagrad", (0.0, 0.0), plain), ("adagrad lr_decay l2", (0.01, 0.1), decayed)] {
        // Burn's default ε is 1e-5; ours (PyTorch's) 1e-10, passed on to Burn's.
        let burn = Some(adagrad(lr_decay, wd, Implementation::Burn));
        check(name, adagrad(lr_decay, wd, Implementation::Plasticity), burn, 0.1, &w0, &grads, &expected);
    }
}

const CLASSP_W0: [f64; 4] = [0.5, -0.3, 0.1, 0.0];
const CLASSP_GRADS: [[f64; 4]; 3] = [[1.0, 0.2, -0.9, 0.0], [0.8, -1.2, 0.1, 2.0], [-0.6, 0.9, -1.5, 0.3]];

fn classp(mode: ClasspMode, lr: f64, threshold: f32, eps: f32, power: f32) -> OptimizerConfig {
    OptimizerConfig::Classp(ClasspConfig {
        lr,
        threshold: Some(threshold),
        eps,
        power,
        mode,
        ..Default::default()
    })
}

/// golden_values.out, "CLASSP, paper/pseudocode-faithful variant": the per-element gate (element
/// 1's g² = 0.04 < τ = 0.5 at step 1 leaves it and its sum untouched), and p = 2, τ = 0.
#[test]
fn classp_paper_mode_golden_values() {
    let p1 = [
        [0.300002, -0.3, 0.299997778, 0.0],
        [0.211113605, -0.100001667, 0.299997778, -0.199999],
        [0.211113605, -0.185715544, 0.424997257, -0.199999],
    ];
    check("classp paper p=1", classp(ClasspMode::Paper, 0.2, 0.5, 1e-5, 1.0), None, 0.2, &CLASSP_W0, &CLASSP_GRADS, &p1);
    let p2 = [
        [0.400000001, -0.399999988, 0.199999999, 0.0],
        [0.337530496, -0.301360595, 0.188956847, -0.0999999999],
        [0.379956903, -0.360834269, 0.274566369, -0.114834045],
    ];
    check("classp paper p=2 τ=0", classp(ClasspMode::Paper, 0.1, 0.0, 1e-8, 2.0), None, 0.1, &CLASSP_W0, &CLASSP_GRADS, &p2);
}

/// golden_values.out, "CLASSP, official CLASSP.py behaviour": the per-tensor gate moves element
/// 1 at step 1 although its g² < τ (bug B1), and `S` adds |g| although p = 2 (B2).
#[test]
fn classp_reference_mode_golden_values() {
    let code = [
        [0.300001, -0.389440483, 0.289735606, 0.0],
        [0.180744372, -0.186604186, 0.269735706, -0.282842005],
        [0.258203878, -0.305292414, 0.459471986, -0.322404748],
    ];
    check("classp reference p=2", classp(ClasspMode::Reference, 0.2, 0.5, 1e-5, 2.0), None, 0.2, &CLASSP_W0, &CLASSP_GRADS, &code);
    // τ ≥ 1: the reference code never moves anything (float(True) = 1 is not > 1).
    let frozen = [CLASSP_W0; 3];
    check("classp reference τ=1", classp(ClasspMode::Reference, 0.2, 1.0, 1e-5, 1.0), None, 0.2, &CLASSP_W0, &CLASSP_GRADS, &frozen);
}

/// With p = 1 the paper mode at its default τ = 0 and the reference code at its default τ = 0.5
/// take the same steps: every non-zero gradient passes both gates, and a zero one moves nothing
/// and adds nothing to `S`.
#[test]
fn classp_modes_agree_at_their_default_thresholds() {
    let with_defaults = |mode| {
        OptimizerConfig::Classp(ClasspConfig {
            mode,
            ..Default::default()
        })
    };
    let device = Device::flex().autodiff();
    let [paper, reference] = [ClasspMode::Paper, ClasspMode::Reference]
        .map(|mode| trajectory(Optimizer::build(&with_defaults(mode), Vec::new(), true, &device), 0.2, &CLASSP_W0, &CLASSP_GRADS));
    assert_eq!(paper, reference);
    assert_ne!(paper[0], CLASSP_W0.map(|v| v as f32).to_vec(), "the first step moves");
}
