//! # plasticity
//!
//! Brain-inspired ways to adapt neural networks, on [Burn](https://burn.dev) 0.22: PEFT
//! (TauGate, MiSS/Bone, TriAdaptLoRA, LoRA, IA3), weight reparameterizations, continual learning
//! and pruning. This facade re-exports the workspace crates:
//!
//! * [`data`]: MNIST-format reader, the bundled MNIST subset, transforms, epoch-keyed loaders;
//! * [`models`]: the bundled MLP and CNN, and [`models::PlasticModel`], the trait a model of your
//!   own implements to train through plasticity;
//! * [`train`]: run configs, the training runner on Burn's `SupervisedTraining`, checkpoints,
//!   reports;
//! * [`peft`]: parameter-efficient fine-tuning methods.
//!
//! Train a model of your own (see `examples/custom_model.rs`):
//!
//! ```no_run
//! use plasticity::models::{ActivationHook, InsertionPoint, PlasticModel, Activation};
//! use plasticity::burn::{module::Module, nn::{Linear, LinearConfig}, tensor::{Device, Tensor}};
//!
//! #[derive(Module, Debug)]
//! struct Tiny { hidden: Linear, output: Linear }
//!
//! impl PlasticModel for Tiny {
//!     fn forward_hooked(&self, x: Tensor<2>, hook: &dyn ActivationHook) -> Tensor<2> {
//!         let z = self.hidden.forward(x);
//!         self.output.forward(hook.activate(0, z, Activation::Tanh))
//!     }
//!     fn insertion_points(&self) -> Vec<InsertionPoint> {
//!         vec![InsertionPoint { name: "hidden".into(), width: 64 }]
//!     }
//! }
//!
//! let config = plasticity::train::parse_config("name = \"tiny\"", "inline", &[]).unwrap();
//! let summary = plasticity::train::train_with(&config, &Default::default(), |device: &Device| Tiny {
//!     hidden: LinearConfig::new(784, 64).init(device),
//!     output: LinearConfig::new(64, 10).init(device),
//! }).unwrap();
//! println!("{:?}", summary.results.test_accuracy);
//! ```

pub use burn;
pub use plasticity_data as data;
pub use plasticity_models as models;
pub use plasticity_peft as peft;
pub use plasticity_train as train;
