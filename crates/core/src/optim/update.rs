//! The update rules, element by element (host memory) and as tensor ops (other devices). Each
//! follows Burn 0.22.1's arithmetic step for step (`burn-optim/src/optim/{sgd,adam,adamw,
//! momentum,decay}.rs`), so one step on identical gradients matches Burn's to rounding, and
//! PyTorch's formulas (`torch.optim.{SGD,Adam,AdamW}`), which Burn's equal.

use super::config::{AdagradConfig, AdamConfig, AdamWConfig, SgdConfig};
use super::state::{Buffer, ParamState};
use burn::tensor::Tensor;
use rayon::prelude::*;

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

pub(crate) fn host<'a>(state: &'a mut ParamState, name: &str, n: usize) -> &'a mut Vec<f32> {
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

pub(crate) fn device<'a>(state: &'a mut ParamState, name: &str, like: &Tensor<1>) -> &'a mut Tensor<1> {
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

/// Elements per parallel piece of a host update: a large parameter is split over the rayon pool
/// (the one Burn's flex backend uses); a small one runs on the calling thread.
const CHUNK: usize = 1 << 15;

/// Runs `kernel` over matching pieces of the parameter `p`, its gradient `g` and `K` state
/// buffers, in parallel when there is more than one piece. Kernels are plain loops over
/// slices, so that they vectorise.
pub(crate) fn pieces<const K: usize>(
    p: &mut [f32],
    g: &[f32],
    state: [&mut [f32]; K],
    kernel: impl Fn(&mut [f32], &[f32], [&mut [f32]; K]) + Sync,
) {
    if p.len() <= CHUNK {
        return kernel(p, g, state);
    }
    let mut buffers = state.map(|b| b.chunks_mut(CHUNK));
    let work: Vec<_> = p
        .chunks_mut(CHUNK)
        .zip(g.chunks(CHUNK))
        .map(|(p, g)| (p, g, buffers.each_mut().map(|b| b.next().unwrap_or_default())))
        .collect();
    work.into_par_iter().for_each(|(p, g, state)| kernel(p, g, state));
}

/// SGD with momentum, dampening, Nesterov and L2 weight decay, in place on host memory.
pub(crate) fn sgd_host(c: &SgdConfig, p: &mut [f32], g: &[f32], s: Step) {
    let (lr, wd) = (s.lr as f32, s.weight_decay);
    let first = s.state.step == 0;
    s.state.step += 1;
    if c.momentum == 0.0 {
        return pieces(p, g, [], |p, g, []| {
            for (p, &g) in p.iter_mut().zip(g) {
                let g = if wd != 0.0 { *p * wd + g } else { g };
                *p -= g * lr;
            }
        });
    }
    let (mom, damp, nesterov) = (c.momentum as f32, (1.0 - c.dampening) as f32, c.nesterov);
    let velocity = host(s.state, "momentum", p.len());
    pieces(p, g, [velocity], |p, g, [v]| {
        for ((p, &g), v) in p.iter_mut().zip(g).zip(v.iter_mut()) {
            let g = if wd != 0.0 { *p * wd + g } else { g };
            // torch and Burn start the buffer at the first gradient, without dampening.
            *v = if first { g } else { g * damp + *v * mom };
            let d = if nesterov { *v * mom + g } else { *v };
            *p -= d * lr;
        }
    });
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

/// Adam's constants for one update of one parameter.
#[derive(Clone, Copy)]
struct AdamStep {
    b1: f32,
    b2: f32,
    /// `1 − β₁`, `1 − β₂`.
    f1: f32,
    f2: f32,
    /// Adam's L2 term (0 for AdamW).
    l2: f32,
    /// AdamW: `lr·wd`, and `1 − lr·wd` (1 without decay), in Burn's arithmetic.
    decay_rate: f32,
    keep: f32,
    lr: f32,
    eps: f32,
}

impl AdamStep {
    /// `(√(1 − β₂ᵗ)/(1 − β₁ᵗ), ε·√(1 − β₂ᵗ))`: Burn folds the bias corrections so.
    fn bias(&self, t: i32) -> (f32, f32) {
        let bc2_sqrt = (1.0 - self.b2.powi(t)).sqrt();
        (bc2_sqrt / (1.0 - self.b1.powi(t)), self.eps * bc2_sqrt)
    }

    /// One element: updates the moments and returns the new value. `L2` and `CAUTIOUS` are
    /// decided per call, so the loops that use this have no per-element branch but the sign
    /// test of cautious decay.
    #[inline(always)]
    fn element<const L2: bool, const CAUTIOUS: bool>(&self, p: f32, g: f32, m: &mut f32, v: &mut f32, (combined, eps): (f32, f32)) -> f32 {
        let g = if L2 { g + p * self.l2 } else { g };
        *m = *m * self.b1 + g * self.f1;
        *v = *v * self.b2 + g * g * self.f2;
        let update = *m * combined / (v.sqrt() + eps);
        let decayed = match CAUTIOUS {
            // Decay only where the weight and the new first moment agree in sign.
            true if (p >= 0.0) != (*m >= 0.0) => p,
            true => p - p * self.decay_rate,
            false => p * self.keep,
        };
        decayed - update * self.lr
    }

    /// The update of a piece, with one step count for the whole parameter.
    fn run<const L2: bool, const CAUTIOUS: bool>(&self, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], bias: (f32, f32)) {
        for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
            *p = self.element::<L2, CAUTIOUS>(*p, g, m, v, bias);
        }
    }

    /// The update of a piece with a step count per element.
    fn run_counted<const L2: bool, const CAUTIOUS: bool>(&self, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], steps: &mut [f32]) {
        for ((((p, &g), m), v), t) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()).zip(steps.iter_mut()) {
            *t += 1.0;
            *p = self.element::<L2, CAUTIOUS>(*p, g, m, v, self.bias(*t as i32));
        }
    }
}

/// Adam / AdamW in place on host memory: one pass over the parameter, its gradient and its
/// moments (and per-element steps when kept), split over the rayon pool for large parameters.
pub(crate) fn adam_host(r: AdamRule, p: &mut [f32], g: &[f32], s: Step) {
    let n = p.len();
    let (lr, wd) = (s.lr, s.weight_decay);
    s.state.step += 1;
    let decay = r.decoupled && wd != 0.0;
    let k = AdamStep {
        b1: r.beta1,
        b2: r.beta2,
        f1: 1.0 - r.beta1,
        f2: 1.0 - r.beta2,
        l2: if r.decoupled { 0.0 } else { wd },
        decay_rate: (lr * wd as f64) as f32,
        keep: if decay { (1.0 - lr * wd as f64) as f32 } else { 1.0 },
        lr: lr as f32,
        eps: r.eps,
    };
    let (l2, cautious) = (k.l2 != 0.0, decay && r.cautious);
    let mut m = std::mem::take(host(s.state, "moment_1", n));
    let mut v = std::mem::take(host(s.state, "moment_2", n));
    if s.per_element_steps {
        let mut steps = std::mem::take(host(s.state, "step", n));
        pieces(p, g, [&mut m, &mut v, &mut steps], |p, g, [m, v, t]| match (l2, cautious) {
            (false, false) => k.run_counted::<false, false>(p, g, m, v, t),
            (true, false) => k.run_counted::<true, false>(p, g, m, v, t),
            (false, true) => k.run_counted::<false, true>(p, g, m, v, t),
            (true, true) => k.run_counted::<true, true>(p, g, m, v, t),
        });
        *host(s.state, "step", n) = steps;
    } else {
        let bias = k.bias(s.state.step as i32);
        pieces(p, g, [&mut m, &mut v], |p, g, [m, v]| match (l2, cautious) {
            (false, false) => k.run::<false, false>(p, g, m, v, bias),
            (true, false) => k.run::<true, false>(p, g, m, v, bias),
            (false, true) => k.run::<false, true>(p, g, m, v, bias),
            (true, true) => k.run::<true, true>(p, g, m, v, bias),
        });
    }
    *host(s.state, "moment_1", n) = m;
    *host(s.state, "moment_2", n) = v;
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

/// Adagrad's learning rate at this step, `lr/(1 + (t−1)·lr_decay)` (after counting the step).
fn adagrad_lr(c: &AdagradConfig, s: &mut Step) -> f64 {
    s.state.step += 1;
    s.lr / (1.0 + (s.state.step - 1) as f64 * c.lr_decay)
}

/// Adagrad in place on host memory, in Burn's arithmetic: `g/(√s + ε)·lr_t`.
pub(crate) fn adagrad_host(c: &AdagradConfig, p: &mut [f32], g: &[f32], mut s: Step) {
    let n = p.len();
    let (lr, wd, eps) = (adagrad_lr(c, &mut s) as f32, s.weight_decay, c.eps);
    let sum = host(s.state, "sum", n);
    pieces(p, g, [sum], |p, g, [sum]| {
        for ((p, &g), sum) in p.iter_mut().zip(g).zip(sum.iter_mut()) {
            let g = if wd != 0.0 { *p * wd + g } else { g };
            *sum += g * g;
            *p -= g / (sum.sqrt() + eps) * lr;
        }
    });
}

/// Adagrad as tensor ops.
pub(crate) fn adagrad_device<const D: usize>(c: &AdagradConfig, p: Tensor<D>, g: Tensor<D>, mut s: Step) -> Tensor<D> {
    let shape = p.shape();
    let n = shape.num_elements();
    let lr = adagrad_lr(c, &mut s);
    let p1: Tensor<1> = p.reshape([n]);
    let mut g: Tensor<1> = g.reshape([n]);
    if s.weight_decay != 0.0 {
        g = p1.clone().mul_scalar(s.weight_decay).add(g);
    }
    let sum = device(s.state, "sum", &g);
    *sum = sum.clone().add(g.clone().square());
    let update = g.div(sum.clone().sqrt().add_scalar(c.eps)).mul_scalar(lr);
    (p1 - update).reshape(shape)
}
