//! The data-dependent init of weight normalization (Salimans & Kingma 2016, §3): after it, every
//! weight-normalized layer's pre-activations on the init batch have mean 0 and standard
//! deviation `init_scale` per unit (per channel for a convolution, over the batch and the
//! positions), on the MLP, the CNN (its convolutions included) and a model defined only here;
//! the stored directions `v` are unchanged.

mod common;

use burn::tensor::{Device, Tensor};
use common::{Net, attach, cnn, inputs, mlp, values};
use plasticity_core::{Hook, Hooks, PlasticModel, Units};
use plasticity_reparam::WeightNormConfig;
use plasticity_reparam::weight_norm::{WeightNormMethod, data_dependent_init};
use std::sync::{Arc, Mutex};

/// Records every pre-activation `[n, units, positions]` the forward pass exposes, by point.
#[derive(Default, Clone)]
struct Seen(Arc<Mutex<Vec<(String, Tensor<3>)>>>);

impl Hook for Seen {
    fn activate(&self, point: usize, z: &Units, h: Tensor<3>) -> Tensor<3> {
        self.0.lock().unwrap().push((format!("insertion {point}"), z.values.clone()));
        h
    }
    fn linear(&self, point: usize, _x: &Tensor<2>, y: Tensor<2>) -> Tensor<2> {
        let [n, d] = y.dims();
        self.0.lock().unwrap().push((format!("linear {point}"), y.clone().reshape([n, d, 1])));
        y
    }
}

/// Per-unit mean and standard deviation (population) of `z: [n, units, positions]`.
fn moments(z: Tensor<3>) -> (Vec<f32>, Vec<f32>) {
    let [n, units, positions] = z.dims();
    let t: Tensor<2> = z.swap_dims(0, 1).reshape([units, n * positions]);
    let mean = t.clone().mean_dim(1);
    let var = (t - mean.clone()).powi_scalar(2).mean_dim(1);
    (values(mean), values(var.sqrt()))
}

fn check<M: PlasticModel<Input = Tensor<2>>>(name: &str, model: M, features: usize, layers: &[&str], probes: &[&str]) {
    let device = Device::flex();
    let init_scale = 0.5;
    let x = inputs(64, features, &device);
    let mut method = WeightNormMethod::new(WeightNormConfig::default());
    let model = attach(&mut method, model, &device);
    let directions = |m: &M| {
        let mut v = Vec::new();
        plasticity_core::walk_params(m, true, |info, value| {
            if info.reparameterization.is_some() {
                v.push((info.path.clone(), value.unwrap().into_data()));
            }
        });
        v
    };
    let before = directions(&model);
    assert_eq!(before.len(), layers.len());
    let modules: Vec<String> = layers.iter().map(|s| s.to_string()).collect();
    let model = data_dependent_init(model, x.clone(), &modules, init_scale).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(directions(&model), before, "{name}: v keeps its values");

    let seen = Seen::default();
    let hooks = Hooks::new(vec![Box::new(seen.clone())]);
    let _ = model.forward_hooked(x, &hooks);
    let seen = seen.0.lock().unwrap().clone();
    for probe in probes {
        let (_, z) = seen.iter().find(|(p, _)| p == probe).unwrap_or_else(|| panic!("{name}: {probe} not reached"));
        let (mean, std) = moments(z.clone());
        for (u, (m, s)) in mean.iter().zip(&std).enumerate() {
            assert!(m.abs() < 1e-4, "{name} {probe} unit {u}: mean {m}");
            assert!((s - init_scale as f32).abs() < 1e-4, "{name} {probe} unit {u}: std {s}");
        }
    }
}

#[test]
fn data_init_normalizes_the_mlp() {
    let device = Device::flex();
    check("mlp", mlp(&device), 784, &["hidden.0", "hidden.1", "output"], &["linear 0", "linear 1", "linear 2"]);
}

#[test]
fn data_init_normalizes_the_cnn_convolutions_included() {
    let device = Device::flex();
    let layers = ["conv1", "conv2", "fc", "output"];
    check("cnn", cnn(&device), 784, &layers, &["insertion 0", "insertion 1", "linear 0", "linear 1"]);
}

#[test]
fn data_init_normalizes_a_test_model() {
    let device = Device::flex();
    let layers = ["head", "blocks.1.proj", "stem", "blocks.0.proj"];
    let probes = ["insertion 0", "linear 0", "linear 1", "linear 2"];
    check("net", Net::new(&device), 36, &layers, &probes);
}

/// A layer the forward pass does not expose cannot be initialized: a clear error.
#[test]
fn data_init_of_a_hidden_layer_is_refused() {
    let device = Device::flex();
    let model = attach(&mut WeightNormMethod::new(WeightNormConfig::default()), mlp(&device), &device);
    let e = data_dependent_init(model, inputs(4, 784, &device), &["nowhere".into()], 1.0).err().unwrap().to_string();
    assert!(e.contains("`nowhere`") && e.contains("linear point"), "{e}");
}
