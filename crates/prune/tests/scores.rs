//! SNIP's and SynFlow's scores against a hand-computed 2-layer net (x·W1 → ReLU → ·W2, no
//! biases), and the methods' one-shot masks at the start of a run: SynFlow's iterative schedule,
//! SNIP's and magnitude pruning's counts.

use burn::tensor::{Device, Int, Tensor, TensorData};
use plasticity_core::{AttachContext, Batch, ExampleSet, Method, TaskContext, TaskData, walk_params};
use plasticity_prune::scores::{snip, synflow};
use plasticity_prune::{PruneConfig, PruneMethod};
use std::sync::Arc;

mod common;

use common::{Net, net};

const TARGETS: [&str; 2] = ["hidden.weight", "output.weight"];

fn targets() -> Vec<String> {
    TARGETS.iter().map(|s| s.to_string()).collect()
}

/// One example, x = [1, 2], class 1 of 2.
struct One;

impl ExampleSet<Tensor<2>> for One {
    fn len(&self) -> usize {
        1
    }
    fn batch(&self, indices: &[usize], device: &Device) -> Batch<Tensor<2>> {
        Batch {
            input: Tensor::from_data(TensorData::new(vec![1.0f32, 2.0], [indices.len(), 2]), device),
            targets: Tensor::<1, Int>::from_data(TensorData::new(vec![1i64; indices.len()], [indices.len()]), device),
        }
    }
    fn label(&self, _index: usize) -> usize {
        1
    }
    fn num_classes(&self) -> usize {
        2
    }
}

fn close(a: &[Vec<f32>], b: &[Vec<f64>]) {
    for (x, y) in a.iter().flatten().zip(b.iter().flatten()) {
        assert!((*x as f64 - y).abs() < 1e-6, "{a:?} vs {b:?}");
    }
}

#[test]
fn synflow_scores_are_the_path_products_by_hand() {
    let device = Device::flex().autodiff();
    // W1 [d_in 2, d_out 2], W2 [2, 1]; |·| makes every path positive. With ones in:
    // h_j = Σ_i |W1_ij| = [4, 2.5]; R = Σ_j h_j |W2_j|;
    // S1_ij = |W1_ij|·|W2_j|, S2_j = h_j·|W2_j|.
    let model = net(&[1.0, -2.0, 3.0, 0.5], [2, 2], &[-1.0, 2.0], [2, 1], &device);
    let probe = Tensor::<2>::from_data(TensorData::new(vec![0.3f32, -7.0], [1, 2]), &device);
    let s = synflow(&model, &probe, &targets()).unwrap();
    close(&s, &[vec![1.0, 4.0, 3.0, 1.0], vec![4.0, 5.0]]);
    // The signs of the model are untouched.
    let mut w = Vec::new();
    walk_params(&model, true, |_, v| w.push(v.unwrap().into_data().convert::<f32>().try_to_vec::<f32>().unwrap()));
    assert_eq!(w[0], [1.0, -2.0, 3.0, 0.5]);
}

#[test]
fn snip_scores_are_grad_times_weight_by_hand() {
    let device = Device::flex().autodiff();
    let (w1, w2) = ([0.5f32, -1.0, 0.25, 0.75], [1.0f32, -0.5, 0.2, 0.3]);
    let model = net(&w1, [2, 2], &w2, [2, 2], &device);
    let s = snip(&model, &One, &targets(), 1, 1, &device).unwrap();
    // By hand: x = [1, 2], pre = x·W1 = [1, 0.5], h = ReLU(pre) = [1, 0.5];
    // z = h·W2 = [1.1, -0.35]; p = softmax(z); δ = p − onehot(1);
    // ∂L/∂W2_jc = h_j δ_c; ∂L/∂h_j = Σ_c W2_jc δ_c; ∂L/∂W1_ij = x_i ∂L/∂h_j (both units active).
    let x = [1.0f64, 2.0];
    let h = [x[0] * 0.5 + x[1] * 0.25, x[0] * -1.0 + x[1] * 0.75];
    let z = [h[0] * 1.0 + h[1] * 0.2, h[0] * -0.5 + h[1] * 0.3];
    let e = [z[0].exp(), z[1].exp()];
    let delta = [e[0] / (e[0] + e[1]), e[1] / (e[0] + e[1]) - 1.0];
    let w2f: Vec<f64> = w2.iter().map(|&v| v as f64).collect();
    let dh = [w2f[0] * delta[0] + w2f[1] * delta[1], w2f[2] * delta[0] + w2f[3] * delta[1]];
    let g1 = [x[0] * dh[0], x[0] * dh[1], x[1] * dh[0], x[1] * dh[1]];
    let g2 = [h[0] * delta[0], h[0] * delta[1], h[1] * delta[0], h[1] * delta[1]];
    let s1: Vec<f64> = g1.iter().zip(w1).map(|(g, w)| (g * w as f64).abs()).collect();
    let s2: Vec<f64> = g2.iter().zip(w2).map(|(g, w)| (g * w as f64).abs()).collect();
    let total: f64 = s1.iter().chain(&s2).sum();
    let expected = vec![s1.iter().map(|v| v / total).collect(), s2.iter().map(|v| v / total).collect()];
    close(&s, &expected);
}

fn start(method: &str, extra: &str, model: Net, device: &Device) -> (PruneMethod, Net) {
    let config: PruneConfig = toml::from_str(&format!("method = \"{method}\"\nfinal_sparsity = 0.5\n{extra}")).unwrap();
    let mut m = PruneMethod::new(config, 1);
    let model = Method::<Net>::attach(&mut m, model, &AttachContext { device, total_steps: 10, run_dir: None }).unwrap();
    let data = TaskData::<Tensor<2>> {
        train: Arc::new(One),
        valid: Arc::new(One),
        test: Arc::new(One),
    };
    let task = TaskContext { index: 0, data: &data, device, batch_size: 1 };
    let model = Method::<Net>::task_start(&mut m, model, &task).unwrap();
    (m, model)
}

fn masks(m: &PruneMethod) -> Vec<Vec<bool>> {
    m.masks().map(|(_, k)| k.to_vec()).collect()
}

#[test]
fn one_shot_methods_prune_at_the_start_to_the_schedule() {
    let device = Device::flex().autodiff();
    let w1: Vec<f32> = (0..12).map(|i| ((i * 7 % 11) as f32 - 5.0) / 10.0 + 0.01 * i as f32).collect();
    let w2: Vec<f32> = (0..12).map(|i| ((i * 5 % 13) as f32 - 6.0) / 10.0 + 0.013 * i as f32).collect();
    let fresh = || net(&w1, [2, 6], &w2, [6, 2], &device);
    let nnz = |m: &PruneMethod| masks(m).iter().flatten().filter(|&&k| k).count();
    // Magnitude: torch.prune's count, round(0.5 · 24) = 12 pruned, the 12 largest |w| kept.
    let (m, model) = start("magnitude", "", fresh(), &device);
    assert_eq!(nnz(&m), 12);
    let mut zeros = 0;
    walk_params(&model, true, |_, v| zeros += v.unwrap().into_data().convert::<f32>().try_to_vec::<f32>().unwrap().iter().filter(|&&x| x == 0.0).count());
    assert_eq!(zeros, 12, "the pruned weights are zero in the model");
    // SynFlow, one iteration: the mask of a single scoring pass, int((1 − 0.5)·24) = 12 dropped.
    let (m1, _) = start("synflow", "iterations = 1", fresh(), &device);
    let single = synflow(&fresh(), &Tensor::ones([1, 2], &device), &targets()).unwrap();
    assert_eq!(masks(&m1), plasticity_prune::scores::keep_above_kth(&single, 12));
    // Iterative: 4 rounds to densities 0.5^(1/4), 0.5^(2/4), 0.5^(3/4), 0.5; each round rescored
    // on the masked net, the k-th lowest of all 24 scores cut (the pruned ones score 0).
    let (m4, _) = start("synflow", "iterations = 4", fresh(), &device);
    let mut model = fresh();
    let mut expect = vec![vec![true; 12], vec![true; 12]];
    for e in 0..4 {
        let s = synflow(&model, &Tensor::ones([1, 2], &device), &targets()).unwrap();
        let density = 0.5f64.powf((e + 1) as f64 / 4.0);
        expect = plasticity_prune::scores::keep_above_kth(&s, ((1.0 - density) * 24.0) as usize);
        let mut values = std::collections::BTreeMap::new();
        walk_params(&model, true, |info, v| {
            let w = v.unwrap().into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
            let l = TARGETS.iter().position(|t| *t == info.path).unwrap();
            let kept: Vec<f32> = w.iter().zip(&expect[l]).map(|(w, &k)| if k { *w } else { 0.0 }).collect();
            values.insert(info.path.clone(), Tensor::<1>::from_data(TensorData::new(kept, [w.len()]), &device));
        });
        model = plasticity_core::set_params(model, values);
    }
    assert_eq!(masks(&m4), expect);
    assert_eq!(nnz(&m4), 12);
    // SNIP: int(0.5 · 24) = 12 dropped, on the training batch.
    let (m, _) = start("snip", "", fresh(), &device);
    assert_eq!(nnz(&m), 12);
    assert_eq!(m.events().len(), 1);
    assert_eq!(m.events()[0].step, 0);
}
