//! What a run trains: the model with its methods' modules ([`Trainee`]), and the methods
//! themselves in run order ([`Methods`]), called at the Method API's fixed points without
//! knowing which methods they are.

use crate::error::{Result, TrainError};
use burn::module::Module;
use burn::tensor::Tensor;
use plasticity_core::{
    AttachContext, Forward, Hooks, Method, MethodError, MethodModules, MethodResult, ParamInfo, PlasticModel,
    TensorState,
};
use std::collections::BTreeMap;

/// The module the optimizer steps: the model and its methods' trainable modules. Checkpoints
/// record it whole (`model.…`, `modules.<method>.…`).
#[derive(Module, Debug)]
pub struct Trainee<M: PlasticModel> {
    pub model: M,
    pub modules: MethodModules,
}

impl<M: PlasticModel> Trainee<M> {
    pub fn new(model: M) -> Self {
        Self {
            model,
            modules: MethodModules::new(),
        }
    }
}

/// The methods of a run, in the order their hooks compose and their rules run.
pub struct Methods<M: PlasticModel> {
    list: Vec<Box<dyn Method<M>>>,
}

/// The runner's error for a method's: the method's message, named.
pub fn method_error(name: &str, e: MethodError) -> TrainError {
    let message = e.0;
    match message.contains(name) {
        true => TrainError::Run(message),
        false => TrainError::Run(format!("method `{name}`: {message}")),
    }
}

impl<M: PlasticModel> Methods<M> {
    /// Errors when two methods share a name (their state and modules are keyed by it).
    pub fn new(list: Vec<Box<dyn Method<M>>>) -> Result<Self> {
        let mut names: Vec<String> = list.iter().map(|m| m.name()).collect();
        names.sort();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(TrainError::config(
                "methods",
                format!("two methods are named `{}`; names key their state", w[0]),
            ));
        }
        Ok(Self { list })
    }

    pub fn iter(&self) -> impl Iterator<Item = &dyn Method<M>> {
        self.list.iter().map(|m| m.as_ref())
    }

    pub fn as_slice(&self) -> &[Box<dyn Method<M>>] {
        &self.list
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Runs `f` on each method, naming the method in its error.
    pub fn try_each(&mut self, mut f: impl FnMut(&mut dyn Method<M>) -> MethodResult<()>) -> Result<()> {
        for m in &mut self.list {
            f(m.as_mut()).map_err(|e| method_error(&m.name(), e))?;
        }
        Ok(())
    }

    /// Threads `model` through each method's `f` in order.
    pub fn fold_model(
        &mut self,
        mut model: M,
        mut f: impl FnMut(&mut dyn Method<M>, M) -> MethodResult<M>,
    ) -> Result<M> {
        for m in &mut self.list {
            model = f(m.as_mut(), model).map_err(|e| method_error(&m.name(), e))?;
        }
        Ok(model)
    }

    /// Restores each method's state (methods without saved state get an empty one).
    pub fn restore(&mut self, mut states: BTreeMap<String, TensorState>) -> Result<()> {
        self.try_each(|m| m.restore(states.remove(&m.name()).unwrap_or_default()))
    }

    /// Attaches every method to `model`, then creates their modules.
    pub fn attach(&mut self, model: M, cx: &AttachContext) -> Result<Trainee<M>> {
        let model = self.fold_model(model, |m, model| m.attach(model, cx))?;
        let mut modules = MethodModules::new();
        for m in &mut self.list {
            if let Some(module) = m.module(&model, cx.device).map_err(|e| method_error(&m.name(), e))? {
                modules.insert(&m.name(), module);
            }
        }
        Ok(Trainee { model, modules })
    }

    /// Tells every method that the model's values (and parameter ids) were loaded.
    pub fn loaded(&mut self, model: &M) -> Result<()> {
        self.try_each(|m| m.loaded(model))
    }

    /// Every method's hooks for one forward pass, composed in run order.
    pub fn hooks(&self, trainee: &Trainee<M>, forward: Forward) -> Hooks {
        let mut hooks = Hooks::none();
        for m in &self.list {
            for hook in m.hooks(&trainee.model, &trainee.modules, forward) {
                hooks.push(hook);
            }
        }
        hooks
    }

    /// `[batch, classes]` logits of `trainee` with every method's hooks.
    pub fn forward(&self, trainee: &Trainee<M>, input: M::Input, forward: Forward) -> Tensor<2> {
        trainee.model.forward_hooked(input, &self.hooks(trainee, forward))
    }

    /// `[batch, d]` features of `trainee` ([`PlasticModel::features`]) with every method's hooks.
    pub fn features(&self, trainee: &Trainee<M>, input: M::Input, forward: Forward) -> Option<Tensor<2>> {
        trainee.model.features(input, &self.hooks(trainee, forward))
    }

    /// The sum of the methods' loss penalties, if any method adds one.
    pub fn penalty(&self, trainee: &Trainee<M>) -> Option<Tensor<1>> {
        self.list
            .iter()
            .filter_map(|m| m.penalty(&trainee.model, &trainee.modules))
            .reduce(|a, b| a + b)
    }

    /// The states to checkpoint, by method name (empty states left out).
    pub fn states(&self) -> BTreeMap<String, TensorState> {
        self.list
            .iter()
            .map(|m| (m.name(), m.state()))
            .filter(|(_, s)| !s.is_empty())
            .collect()
    }

    /// The census role of a parameter: a method's own word for it, else `<method>` for a
    /// method module's parameters, `adapter` inside a reparameterization, `base` otherwise.
    pub fn role(&self, param: &ParamInfo) -> String {
        if let Some(role) = self.list.iter().find_map(|m| m.role(param)) {
            return role;
        }
        match (&param.method, &param.adapter) {
            (Some(method), _) => method.clone(),
            (None, Some(_)) => "adapter".into(),
            (None, None) => "base".into(),
        }
    }
}
