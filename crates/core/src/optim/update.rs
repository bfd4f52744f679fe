//! The update rules, element by element (host memory) and as tensor ops (other devices). Each
//! follows Burn 0.22.1's arithmetic step for step (`burn-optim/src/optim/{sgd,adam,adamw,
//! momentum,decay}.rs`), so one step on identical gradients matches Burn's to rounding, and
//! PyTorch's formulas (`torch.optim.{SGD,Adam,AdamW}`), which Burn's equal.

use super::config::{AdamConfig, AdamWConfig, SgdConfig};
use super::state::{Buffer, ParamState};
use burn::tensor::Tensor;

/// Adam's hyperparameters with the decay style of the kind (L2 in the gradient, or decoupled).
#[derive(Clone, Copy, Debug)]
pub(crate) struct AdamRule {
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    /// AdamW's decoupled decay (`w ← w·(1 − lr·wd)`) instead of Adam's L2 term.
    pub decoupled: bool,
    pub cautious: bool,
}

impl AdamRule {
    pub fn adam(c: &AdamConfig) -> Self {
        Self {
            beta1: c.beta1,
            beta2: c.beta2,
            eps: c.eps,
            decoupled: false,
            cautious: false,
        }
    }
    pub fn adamw(c: &AdamWConfig) -> Self {
        Self {
            beta1: c.beta1,
            beta2: c.beta2,
            eps: c.eps,
            decoupled: true,
            cautious: c.cautious_weight_decay,
        }
    }
}

/// What the update needs of one parameter besides its values.
pub(crate) struct Step<'a> {
    pub lr: f64,
    /// Weight decay for this parameter (0 for the no-decay group).
    pub weight_decay: f32,
    pub state: &'a mut ParamState,
    /// Keep a per-element step count (`step` buffer) instead of one per parameter.
    pub per_element_steps: bool,
}

fn host<'a>(state: &'a mut ParamState, name: &str, n: usize) -> &'a mut Vec<f32> {
    let buffer = state
        .buffers
        .entry(name.to_string())
        .or_insert_with(|| Buffer::zeros(n, None));
    match buffer {
        Buffer::Host(v) => v,
        Buffer::Device(t) => {
            let values = t.clone().into_data().convert::<f32>().try_into_vec::<f32>().unwrap_or_default();
            *buffer = Buffer::Host(values);
            match buffer {
                Buffer::Host(v) => v,
                Buffer::Device(_) => unreachable!(),
            }
        }
    }
}

fn device<'a>(state: &'a mut ParamState, name: &str, like: &Tensor<1>) -> &'a mut Tensor<1> {
    let buffer = state
        .buffers
        .entry(name.to_string())
        .or_insert_with(|| Buffer::Device(like.zeros_like()));
    if let Buffer::Host(v) = buffer {
        let t = Tensor::<1>::from_data(burn::tensor::TensorData::new(v.clone(), [v.len()]), &like.device());
        *buffer = Buffer::Device(t);
    }
    match buffer {
        Buffer::Device(t) => t,
        Buffer::Host(_) => unreachable!(),
    }
}

/// SGD with momentum, dampening, Nesterov and L2 weight decay, in place on host memory.
pub(crate) fn sgd_host(c: &SgdConfig, p: &mut [f32], g: &[f32], s: Step) {
    let (lr, wd) = (s.lr as f32, s.weight_decay);
    let first = s.state.step == 0;
    s.state.step += 1;
    if c.momentum == 0.0 {
        for (p, &g) in p.iter_mut().zip(g) {
            let g = if wd != 0.0 { *p * wd + g } else { g };
            *p -= g * lr;
        }
        return;
    }
    let (mom, damp) = (c.momentum as f32, (1.0 - c.dampening) as f32);
    let velocity = host(s.state, "momentum", p.len());
    for ((p, &g), v) in p.iter_mut().zip(g).zip(velocity.iter_mut()) {
        let g = if wd != 0.0 { *p * wd + g } else { g };
        // torch and Burn start the buffer at the first gradient, without dampening.
        *v = if first { g } else { g * damp + *v * mom };
        let d = if c.nesterov { *v * mom + g } else { *v };
        *p -= d * lr;
    }
}

/// SGD as tensor ops.
pub(crate) fn sgd_device<const D: usize>(c: &SgdConfig, p: Tensor<D>, g: Tensor<D>, s: Step) -> Tensor<D> {
    let shape = p.shape();
    let n = shape.num_elements();
    let first = s.state.step == 0;
    s.state.step += 1;
    let mut g: Tensor<1> = g.reshape([n]);
    let p1: Tensor<1> = p.reshape([n]);
    if s.weight_decay != 0.0 {
        g = p1.clone().mul_scalar(s.weight_decay).add(g);
    }
    if c.momentum != 0.0 {
        let v = device(s.state, "momentum", &g);
        *v = if first {
            g.clone()
        } else {
            g.clone().mul_scalar(1.0 - c.dampening).add(v.clone().mul_scalar(c.momentum))
        };
        g = if c.nesterov {
            v.clone().mul_scalar(c.momentum).add(g)
        } else {
            v.clone()
        };
    }
    (p1 - g.mul_scalar(s.lr)).reshape(shape)
}

/// Adam / AdamW in place on host memory.
pub(crate) fn adam_host(r: AdamRule, p: &mut [f32], g: &[f32], s: Step) {
    let n = p.len();
    let (lr, wd) = (s.lr, s.weight_decay);
    s.state.step += 1;
    let t = s.state.step as i32;
    let per_element = s.per_element_steps;
    let mut m = std::mem::take(host(s.state, "moment_1", n));
    let mut v = std::mem::take(host(s.state, "moment_2", n));
    let mut steps = per_element.then(|| std::mem::take(host(s.state, "step", n)));
    let (b1, b2) = (r.beta1, r.beta2);
    let (f1, f2) = (1.0 - b1, 1.0 - b2);
    let decay_rate = (lr * wd as f64) as f32;
    let keep = (1.0 - lr * wd as f64) as f32;
    let lr = lr as f32;
    let factors = |t: i32| {
        let bc2_sqrt = (1.0 - b2.powi(t)).sqrt();
        (bc2_sqrt / (1.0 - b1.powi(t)), r.eps * bc2_sqrt)
    };
    let (mut combined, mut eps) = factors(t);
    for i in 0..n {
        let mut gi = g[i];
        if !r.decoupled && wd != 0.0 {
            gi += p[i] * wd;
        }
        m[i] = m[i] * b1 + gi * f1;
        v[i] = v[i] * b2 + gi * gi * f2;
        if let Some(steps) = steps.as_mut() {
            steps[i] += 1.0;
            (combined, eps) = factors(steps[i] as i32);
        }
        let update = m[i] * combined / (v[i].sqrt() + eps);
        let pi = p[i];
        let decayed = if !r.decoupled || decay_rate == 0.0 {
            pi
        } else if r.cautious {
            // Decay only where the weight and the new first moment agree in sign.
            if (pi >= 0.0) != (m[i] >= 0.0) { pi } else { pi - pi * decay_rate }
        } else {
            pi * keep
        };
        p[i] = decayed - update * lr;
    }
    *host(s.state, "moment_1", n) = m;
    *host(s.state, "moment_2", n) = v;
    if let Some(steps) = steps {
        *host(s.state, "step", n) = steps;
    }
}

/// Adam / AdamW as tensor ops.
pub(crate) fn adam_device<const D: usize>(r: AdamRule, p: Tensor<D>, g: Tensor<D>, s: Step) -> Tensor<D> {
    let shape = p.shape();
    let n = shape.num_elements();
    let (lr, wd) = (s.lr, s.weight_decay);
    s.state.step += 1;
    let p1: Tensor<1> = p.reshape([n]);
    let mut g: Tensor<1> = g.reshape([n]);
    if !r.decoupled && wd != 0.0 {
        g = p1.clone().mul_scalar(wd).add(g);
    }
    let m = device(s.state, "moment_1", &g);
    *m = m.clone().mul_scalar(r.beta1).add(g.clone().mul_scalar(1.0 - r.beta1));
    let m = m.clone();
    let v = device(s.state, "moment_2", &g);
    *v = v.clone().mul_scalar(r.beta2).add(g.square().mul_scalar(1.0 - r.beta2));
    let v = v.clone();
    let update = if s.per_element_steps {
        let steps = device(s.state, "step", &m);
        *steps = steps.clone().add_scalar(1.0);
        // b^t = exp(t·ln b), element by element.
        let pow = |b: f32| steps.clone().mul_scalar((b as f64).ln()).exp();
        let bc2_sqrt = pow(r.beta2).neg().add_scalar(1.0).sqrt();
        let combined = bc2_sqrt.clone() / pow(r.beta1).neg().add_scalar(1.0);
        m.clone() * combined / (v.sqrt() + bc2_sqrt.mul_scalar(r.eps))
    } else {
        let t = s.state.step as i32;
        let bc2_sqrt = (1.0 - r.beta2.powi(t)).sqrt();
        let combined = bc2_sqrt / (1.0 - r.beta1.powi(t));
        m.clone()
            .mul_scalar(combined)
            .div(v.sqrt().add_scalar(r.eps * bc2_sqrt))
    };
    let decay_rate = lr * wd as f64;
    let decayed = if !r.decoupled || decay_rate == 0.0 {
        p1
    } else if r.cautious {
        let differ = p1.clone().greater_equal_scalar(0.0).not_equal(m.greater_equal_scalar(0.0));
        p1.clone() - p1.mul_scalar(decay_rate).mask_fill(differ, 0.0)
    } else {
        p1.mul_scalar(1.0 - decay_rate)
    };
    (decayed - update.mul_scalar(lr)).reshape(shape)
}
