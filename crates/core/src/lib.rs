//! # plasticity-core
//!
//! What every plasticity method builds on, and nothing else: the model trait
//! ([`PlasticModel`]), the inputs it reads ([`Input`], [`Batch`], [`ExampleSet`]), the hooks
//! that compose inside a forward pass ([`Hooks`]), the method trait ([`Method`]) with its
//! tensor state ([`TensorState`]) and trainable modules ([`MethodModules`]), optimizers whose
//! per-element state methods can reach ([`optim`]), one parameter walker ([`params`]) and
//! checksummed files ([`files`]). Method crates depend on this crate, never on the runner.

pub mod activation;
pub mod batch;
pub mod eval;
pub mod files;
pub mod hooks;
pub mod method;
pub mod model;
pub mod module;
pub mod optim;
pub mod params;
pub mod state;

pub use activation::Activation;
pub use batch::{Batch, ClassBatch, ExampleSet, Examples, Input, TaskData, TokenBatch, Tokens};
pub use eval::{Evaluation, SplitSums, batches_in_order, evaluate, score};
pub use files::FileError;
pub use hooks::{Hook, Hooks, InsertionPoint, Units};
pub use method::{
    ArtifactContext, AttachContext, DynModule, Export, Forward, Method, MethodError, MethodResult, Mode,
    OptimizerNeeds, StepContext, TaskContext,
};
pub use model::PlasticModel;
pub use module::MethodModules;
pub use params::{AdapterOf, ParamCounts, ParamInfo, ParamValue, host_values, param_infos, reparameterized, set_params, walk_params};
pub use state::TensorState;
