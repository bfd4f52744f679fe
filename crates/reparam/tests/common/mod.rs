//! Helpers shared by the integration tests: a model defined only in the tests (a convolution,
//! nested Linear layers in a `Vec`, a head), the MLP and the CNN, and tensor comparisons.
#![allow(dead_code)]

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Distribution, Tensor};
use plasticity_core::{
    Activation, AttachContext, Hooks, InsertionPoint, Method, PlasticModel, param_infos,
};
use plasticity_models::{Cnn, CnnConfig, Mlp, MlpConfig};

/// A model defined only here: `[n, 36]` as a 6×6 image → conv 3×3 (4 channels) → tanh →
/// flatten → (Linear 64→8 → tanh) ×2 → Linear 8→3.
#[derive(Module, Debug)]
pub struct Net {
    pub stem: Conv2d,
    pub blocks: Vec<Block>,
    pub head: Linear,
}

#[derive(Module, Debug)]
pub struct Block {
    pub proj: Linear,
}

impl Net {
    pub fn new(device: &Device) -> Self {
        let net = Self {
            stem: Conv2dConfig::new([1, 4], [3, 3]).init(device),
            blocks: vec![
                Block {
                    proj: LinearConfig::new(64, 8).init(device),
                },
                Block {
                    proj: LinearConfig::new(8, 8).init(device),
                },
            ],
            head: LinearConfig::new(8, 3).init(device),
        };
        // Initialise the lazy parameters before any clone (burn-0.22.md §11.7).
        let _ = param_infos(&net);
        net
    }
}

impl PlasticModel for Net {
    type Input = Tensor<2>;

    fn forward_hooked(&self, x: Tensor<2>, hooks: &Hooks) -> Tensor<2> {
        let n = x.dims()[0];
        let map = hooks.activate_map(0, self.stem.forward(x.reshape([n, 1, 6, 6])), Activation::Tanh);
        let mut h: Tensor<2> = map.flatten(1, 3);
        for (j, block) in self.blocks.iter().enumerate() {
            let z = hooks.linear(j, &block.proj, h);
            h = hooks.activate(1 + j, z, Activation::Tanh);
        }
        hooks.linear(2, &self.head, h)
    }

    fn insertion_points(&self) -> Vec<InsertionPoint> {
        vec![
            InsertionPoint {
                name: "stem".into(),
                width: 4,
            },
            InsertionPoint {
                name: "blocks.0.proj".into(),
                width: 8,
            },
            InsertionPoint {
                name: "blocks.1.proj".into(),
                width: 8,
            },
        ]
    }

    fn linear_points(&self) -> Vec<String> {
        vec!["blocks.0.proj".into(), "blocks.1.proj".into(), "head".into()]
    }
}

pub fn mlp(device: &Device) -> Mlp {
    MlpConfig {
        hidden: vec![32, 16],
        ..Default::default()
    }
    .init(device)
}

pub fn cnn(device: &Device) -> Cnn {
    CnnConfig {
        channels: [4, 6],
        hidden: 16,
        ..Default::default()
    }
    .init(device)
}

/// A batch of `n` inputs for a model with `features` inputs, in [0, 1) like pixels.
pub fn inputs(n: usize, features: usize, device: &Device) -> Tensor<2> {
    Tensor::random([n, features], Distribution::Default, device)
}

/// Attaches `method` to `model` as the runner does.
pub fn attach<M: PlasticModel>(method: &mut dyn Method<M>, model: M, device: &Device) -> M {
    let cx = AttachContext {
        device,
        total_steps: 1,
        run_dir: None,
    };
    method.attach(model, &cx).unwrap_or_else(|e| panic!("attach {}: {e}", method.name()))
}

pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec::<f32>().expect("f32 data")
}

pub fn max_abs_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
    assert_eq!(a.dims(), b.dims(), "shapes differ");
    values(a).iter().zip(values(b)).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// The effective weights (`Param::val()`) of every base parameter, by path: the stored values
/// of the materialized model (a visitor sees a reparameterized parameter's stored base).
pub fn effective_weights<M: Module>(model: &M) -> Vec<(String, Vec<f32>)> {
    struct Collect(Vec<String>, Vec<(String, Vec<f32>)>);
    impl burn::module::ModuleVisitor for Collect {
        fn enter_module(&mut self, name: &str, _container_type: &str) {
            self.0.push(name.into());
        }
        fn exit_module(&mut self, _name: &str, _container_type: &str) {
            self.0.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
            self.1.push((self.0.join("."), values(param.val())));
        }
    }
    let mut c = Collect(Vec::new(), Vec::new());
    model.clone().materialize().visit(&mut c);
    c.1
}
