//! The signed supermask on a small net: masks in {−1, 0, +1} at the asked density, the weights
//! frozen (scaled by 1/√density), the straight-through gradient `∂L/∂S = ∂L/∂w ⊙ v`, and the
//! threshold reset after a step keeping the density.

use burn::module::Param;
use burn::nn::Linear;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use plasticity_core::{AttachContext, Hooks, Method, MethodModules, PlasticModel, StepContext, param_infos, walk_params};
use plasticity_prune::{PruneConfig, SupermaskMethod};

#[derive(burn::module::Module, Debug)]
struct Net {
    layer: Linear,
}

impl PlasticModel for Net {
    type Input = Tensor<2>;
    fn forward_hooked(&self, x: Tensor<2>, _hooks: &Hooks) -> Tensor<2> {
        self.layer.forward(x)
    }
}

fn values(model: &Net, field: &str) -> Vec<f32> {
    let mut out = Vec::new();
    walk_params(model, true, |info, v| {
        let of_field = match &info.adapter {
            Some(a) => a.field == field,
            None => field == "base" && info.path == "layer.weight",
        };
        if of_field {
            out = v.unwrap().into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
        }
    });
    out
}

/// The 8 → 5 layer with weights `w`, and `config`'s method attached to it.
fn attached(w: &[f32], config: &str, device: &Device) -> (SupermaskMethod, Net) {
    let model = Net {
        layer: Linear {
            weight: Param::from_tensor(Tensor::from_data(TensorData::new(w.to_vec(), [8, 5]), device)),
            bias: None,
        },
    };
    let mut method = SupermaskMethod::new(toml::from_str::<PruneConfig>(config).unwrap(), 3);
    let model = Method::<Net>::attach(&mut method, model, &AttachContext { device, total_steps: 10, run_dir: None }).unwrap();
    (method, model)
}

#[test]
fn the_supermask_trains_scores_only_through_the_straight_through_estimator() {
    let device = Device::flex().autodiff();
    let w: Vec<f32> = (0..40).map(|i| ((i * 7 % 11) as f32 - 5.0) / 10.0 + 0.01).collect();
    let (mut method, model) = attached(&w, "method = \"supermask\"\nfinal_sparsity = 0.75", &device);
    // Only the scores train.
    let trainable: Vec<String> = param_infos(&model).into_iter().filter(|p| p.trainable).map(|p| p.path).collect();
    assert_eq!(trainable, ["layer.weight.signed_supermask.scores"]);
    // v = w / √0.25 = 2w; 10 of 40 kept (⌊0.75·40⌋ = 30 hidden).
    let v = values(&model, "base");
    assert!(v.iter().zip(&w).all(|(v, w)| (v - 2.0 * w).abs() < 1e-6));
    let masks = method.masks(&model);
    let m = &masks[0].1;
    assert_eq!(m.iter().filter(|&&x| x == 0.0).count(), 30);
    assert!(m.iter().all(|&x| x == 0.0 || x == 1.0 || x == -1.0));
    // The effective weight is v ⊙ m; the gradient of the scores is ∂L/∂w ⊙ v (L = Σ x·W).
    let x = Tensor::<2>::from_data(TensorData::new((0..16).map(|i| i as f32 / 8.0 - 1.0).collect::<Vec<_>>(), [2, 8]), &device);
    let y = model.forward(x.clone());
    let y_host = y.clone().into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
    let xs = x.clone().into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
    for r in 0..2 {
        for j in 0..5 {
            let expect: f32 = (0..8).map(|i| xs[r * 8 + i] * v[i * 5 + j] * m[i * 5 + j]).sum();
            assert!((y_host[r * 5 + j] - expect).abs() < 1e-5);
        }
    }
    let grads = GradientsParams::from_grads(y.sum().backward(), &model);
    let scores_id = param_infos(&model).into_iter().find(|p| p.trainable).unwrap().id;
    let g = grads.get::<1>(scores_id).unwrap().into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
    for i in 0..8 {
        for j in 0..5 {
            let dl_dw: f32 = (0..2).map(|r| xs[r * 8 + i]).sum();
            assert!((g[i * 5 + j] - dl_dw * v[i * 5 + j]).abs() < 1e-5, "straight-through gradient at ({i}, {j})");
        }
    }
    // A step moves the scores; the threshold is reset so that 30 stay hidden; v is unchanged.
    let mut optim = plasticity_core::optim::PlasticOptimizer::new(plasticity_core::optim::OptimizerConfig::Sgd(plasticity_core::optim::SgdConfig { lr: 10.0, ..Default::default() }), None);
    let model = optim.step(10.0, model, grads);
    let mut modules = MethodModules::new();
    let mut cx = StepContext { step: 0, lr: 10.0, epoch: 1, optimizer: None };
    let model = Method::<Net>::after_step(&mut method, model, &mut modules, &mut cx).unwrap();
    assert_eq!(values(&model, "base"), v, "the weights are frozen");
    let after = &method.masks(&model)[0].1;
    assert_eq!(after.iter().filter(|&&x| x == 0.0).count(), 30);
    assert_ne!(after, m, "a large step changes the mask");
}

/// One example of 8 features (HideNseek's probe shape; its values are not used).
struct Probe;

impl plasticity_core::ExampleSet<Tensor<2>> for Probe {
    fn len(&self) -> usize {
        1
    }
    fn batch(&self, indices: &[usize], device: &Device) -> plasticity_core::Batch<Tensor<2>> {
        plasticity_core::Batch {
            input: Tensor::zeros([indices.len(), 8], device),
            targets: Tensor::zeros([indices.len()], device),
        }
    }
    fn label(&self, _index: usize) -> usize {
        0
    }
    fn num_classes(&self) -> usize {
        5
    }
}

#[test]
fn hidenseek_learns_signs_on_the_synflow_support() {
    let device = Device::flex().autodiff();
    let w: Vec<f32> = (0..40).map(|i| ((i * 7 % 11) as f32 - 5.0) / 10.0 + 0.013 * i as f32).collect();
    let (mut method, model) = attached(&w, "method = \"hidenseek\"\nfinal_sparsity = 0.75\niterations = 1", &device);
    let data = plasticity_core::TaskData::<Tensor<2>> {
        train: std::sync::Arc::new(Probe),
        valid: std::sync::Arc::new(Probe),
        test: std::sync::Arc::new(Probe),
    };
    let task = plasticity_core::TaskContext { index: 0, data: &data, device: &device, batch_size: 1 };
    let model = Method::<Net>::task_start(&mut method, model, &task).unwrap();
    // One layer, ones in: SynFlow's score of w_ij is |w_ij| (R = Σ_ij |w_ij|); 30 of 40 cut,
    // the 10 largest |w| kept, each with its own sign (+1) at the start.
    let m = method.masks(&model)[0].1.clone();
    let mut order: Vec<usize> = (0..40).collect();
    order.sort_by(|&a, &b| w[b].abs().total_cmp(&w[a].abs()));
    for (rank, &i) in order.iter().enumerate() {
        assert_eq!(m[i], if rank < 10 { 1.0 } else { 0.0 }, "weight {i} (|w| rank {rank})");
    }
    // A step can flip signs but never leaves the support.
    let x = Tensor::<2>::from_data(TensorData::new((0..16).map(|i| i as f32 / 8.0 - 1.0).collect::<Vec<_>>(), [2, 8]), &device);
    let grads = GradientsParams::from_grads(model.forward(x).sum().backward(), &model);
    let mut optim = plasticity_core::optim::PlasticOptimizer::new(plasticity_core::optim::OptimizerConfig::Sgd(plasticity_core::optim::SgdConfig { lr: 100.0, ..Default::default() }), None);
    let model = optim.step(100.0, model, grads);
    let mut cx = StepContext { step: 0, lr: 100.0, epoch: 1, optimizer: None };
    let model = Method::<Net>::after_step(&mut method, model, &mut MethodModules::new(), &mut cx).unwrap();
    let after = &method.masks(&model)[0].1;
    assert!(after.iter().zip(&m).all(|(a, b)| (*b == 0.0) == (*a == 0.0)), "the support is fixed");
    assert!(after.iter().any(|&a| a == -1.0), "some signs flipped");
}
