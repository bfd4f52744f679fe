//! plasticity's optimizers on golden vectors: one 4-element parameter, given gradients, values
//! after each step against references computed in float64 outside this project.
//!
//! - AdamW and AdamW with cautious weight decay: ../shared/specs/golden_values.out (continual.md
//!   §4.2; PyTorch's AdamW convention, the paper's cautious rule).
//! - Adagrad: `torch.optim.Adagrad` (PyTorch 2.15, float64), the script in each case's comment.
//!
//! Each case runs our optimizer in host memory (the fused CPU update) and as tensor ops (the GPU
//! path, on flex), and Burn's where Burn has the rule; all within 1e-6.

use burn::module::{Module, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use plasticity_core::optim::{AdagradConfig, AdamWConfig, Implementation, Optimizer, OptimizerConfig};

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
        out.push(m.w.val().into_data().convert::<f32>().to_vec::<f32>().unwrap());
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
