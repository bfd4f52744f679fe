//! A census of a Burn module's float parameters, by path: the bases and the parameters inside
//! reparameterizations (adapters). Burn has no `named_parameters`; this visitor builds paths
//! from `enter_module`/`exit_module` as Burn's own `ParamGroup` mapper does (burn-0.22.md §1).

use burn::module::{Module, ModuleVisitor, Param, ParamGroup, ParamId};
use burn::tensor::Tensor;

/// One float parameter seen by [`ParamCensus`].
#[derive(Clone, Debug)]
pub struct ParamEntry {
    /// Dotted parameter path, e.g. `hidden.0.weight`.
    pub path: String,
    /// Stored (base) shape.
    pub shape: Vec<usize>,
    /// `Reparameterization::NAME` of an attached reparameterization, if any.
    pub reparameterization: Option<String>,
    pub id: ParamId,
}

/// A [`ModuleVisitor`] that lists every float parameter outside reparameterizations (the bases),
/// with its path, shape and attached reparameterization, and separately the parameters inside
/// reparameterizations (the adapters, paths `<param>.<NAME>.<field>`). Burn's derive calls `enter_module` around every
/// field, and a reparameterized parameter visits its base and then
/// `enter_module(NAME, "Reparameterization")`.
#[derive(Default)]
pub struct ParamCensus {
    stack: Vec<String>,
    inside_reparameterization: usize,
    /// The base parameters in visiting order.
    pub params: Vec<ParamEntry>,
    /// The adapter parameters in visiting order.
    pub adapters: Vec<ParamEntry>,
}

impl ParamCensus {
    pub fn of<M: Module>(model: &M) -> Self {
        let mut census = Self::default();
        model.visit(&mut census);
        census
    }

    /// The adapter parameters by id, e.g. for `into_record_group` (saving adapters only) or an
    /// optimizer group.
    pub fn adapter_group(&self) -> ParamGroup {
        ParamGroup::from_ids(self.adapters.iter().map(|p| p.id).collect())
    }

    /// Number of scalar parameters inside reparameterizations (what the weight-space methods of
    /// this crate train; they freeze every base).
    pub fn adapter_parameters(&self) -> usize {
        self.adapters.iter().map(|p| p.shape.iter().product::<usize>()).sum()
    }

    /// Number of scalar parameters, bases and adapters (peft's "all params").
    pub fn total_parameters(&self) -> usize {
        self.params
            .iter()
            .map(|p| p.shape.iter().product::<usize>())
            .sum::<usize>()
            + self.adapter_parameters()
    }
}

impl ModuleVisitor for ParamCensus {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        if container_type == "Reparameterization" {
            if self.inside_reparameterization == 0
                && let Some(last) = self.params.last_mut()
            {
                last.reparameterization = Some(name.to_string());
            }
            self.inside_reparameterization += 1;
        }
        self.stack.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, container_type: &str) {
        if container_type == "Reparameterization" {
            self.inside_reparameterization -= 1;
        }
        self.stack.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        // Reading the shape initialises a lazy parameter, so that clones no longer share the
        // lazy cell before a reparameterizer freezes them (burn-0.22.md §11.7).
        let shape = param.base().dims().to_vec();
        let entry = ParamEntry {
            path: self.stack.join("."),
            shape,
            reparameterization: None,
            id: param.id,
        };
        if self.inside_reparameterization > 0 {
            self.adapters.push(entry)
        } else {
            self.params.push(entry)
        }
    }
}
