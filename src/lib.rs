//! # plasticity
//!
//! Brain-inspired ways to adapt neural networks, on [Burn](https://burn.dev) 0.22: PEFT
//! (TauGate, MiSS/Bone, TriAdaptLoRA, LoRA, IA3), weight reparameterizations, continual learning
//! and pruning. This facade re-exports the workspace crates:
//!
//! * [`core`]: the Method API: [`core::PlasticModel`] (the trait a model of your own implements),
//!   composable hooks, [`core::Method`] (the trait a method of your own implements), tensor
//!   state, optimizers with reachable state, checksummed files;
//! * [`data`]: MNIST-format reader, the bundled MNIST subset, transforms, epoch-keyed loaders;
//! * [`models`]: the bundled MLP and CNN;
//! * [`train`]: run configs, the training loop of one task, checkpoints, reports;
//! * [`peft`]: parameter-efficient fine-tuning methods;
//! * [`reparam`]: weight reparameterizations (weight normalization, the weight compander);
//! * [`plot`]: PNG line charts and heatmaps.
//!
//! Train a model of your own (see `examples/custom_model.rs`):
//!
//! ```no_run
//! use plasticity::core::{Activation, Hooks, InsertionPoint, PlasticModel};
//! use plasticity::burn::{module::Module, nn::{Linear, LinearConfig}, tensor::{Device, Tensor}};
//!
//! #[derive(Module, Debug)]
//! struct Tiny { hidden: Linear, output: Linear }
//!
//! impl PlasticModel for Tiny {
//!     type Input = Tensor<2>;
//!     fn forward_hooked(&self, x: Tensor<2>, hooks: &Hooks) -> Tensor<2> {
//!         let z = hooks.linear(0, &self.hidden, x);
//!         hooks.linear(1, &self.output, hooks.activate(0, z, Activation::Tanh))
//!     }
//!     fn insertion_points(&self) -> Vec<InsertionPoint> {
//!         vec![InsertionPoint { name: "hidden".into(), width: 64 }]
//!     }
//! }
//!
//! let config = plasticity::train::parse_config("name = \"tiny\"", "inline", &[]).unwrap();
//! let init = |device: &Device| Tiny {
//!     hidden: LinearConfig::new(784, 64).init(device),
//!     output: LinearConfig::new(64, 10).init(device),
//! };
//! let summary = plasticity::train::train_with(&config, &Default::default(), init, Default::default()).unwrap();
//! println!("{:?}", summary.results.test_accuracy);
//! ```

pub use burn;
pub use plasticity_continual as continual;
pub use plasticity_core as core;
pub use plasticity_data as data;
pub use plasticity_models as models;
pub use plasticity_peft as peft;
pub use plasticity_plot as plot;
pub use plasticity_prune as prune;
pub use plasticity_reparam as reparam;
pub use plasticity_train as train;
