//! Attaching a method's reparameterization to the selected weights, written once for every
//! weight-space method (style.md: "Write them once, generic over the method").

use crate::target::Selection;
use burn::module::{Module, ModuleVisitor, Param, ParamGroup, ParamId, Reparameterization, Reparameterizer};
use burn::tensor::{Device, Tensor};

/// Builds one method's adapter for a selected 2-D weight.
pub trait AdapterFactory {
    type Reparam: Reparameterization;
    /// `path` is the weight's parameter path, `shape` its stored shape `[d_in, d_out]` (Burn layout).
    fn create(&mut self, path: &str, shape: [usize; 2], device: &Device) -> Self::Reparam;
}

/// A [`Reparameterizer`] that freezes every float parameter it sees (as Burn's `Lora` does, so
/// only adapter parameters train) and attaches `factory`'s adapter to the 2-D weights in `group`.
pub struct FreezeAndAttach<F> {
    pub factory: F,
    pub group: ParamGroup,
}

impl<F: AdapterFactory> Reparameterizer for FreezeAndAttach<F> {
    type Reparam = F::Reparam;

    fn reparameterize<const D: usize>(
        &mut self,
        path: &str,
        param: Param<Tensor<D>>,
    ) -> (Param<Tensor<D>>, Option<F::Reparam>) {
        let hit = D == 2 && self.group.matches(&param.id, Some(path));
        let param = param.set_require_grad(false);
        if !hit {
            return (param, None);
        }
        let dims = param.base().dims();
        let adapter = self.factory.create(path, [dims[0], dims[1]], &param.lazy_device());
        (param, Some(adapter))
    }
}

/// Freeze `model` and attach `factory`'s adapters to the weights of `selection`.
/// Run [`select_targets`](crate::target::select_targets) and the method's shape checks first.
pub fn attach<M: Module, F: AdapterFactory>(model: M, selection: &Selection, factory: F) -> M {
    model.apply_reparameterization(FreezeAndAttach {
        factory,
        group: selection.group.clone(),
    })
}

/// View a `Tensor<D>` that is known to be 2-D (a selected weight) as `Tensor<2>`.
pub(crate) fn as_matrix<const D: usize>(base: Tensor<D>) -> Tensor<2> {
    let dims = base.dims();
    base.reshape([dims[0], dims[1]])
}

/// A 2-D parameter inside a reparameterization, as [`visit_adapter_params`] reports it.
pub(crate) struct AdapterParam<'a> {
    /// Module path of the adapted weight (`hidden.0` for `hidden.0.weight`).
    pub module: String,
    /// The reparameterization's `NAME` (`lora`, `triadapt`, …).
    pub reparam: &'a str,
    /// The adapter's field holding the parameter (`a`, `b`, `c_row`, …).
    pub field: &'a str,
    /// The container type Burn gives that field (`Struct:LoraAdapter`, …).
    pub adapter_type: &'a str,
    pub id: ParamId,
}

/// Calls `f` for every 2-D parameter inside a reparameterization of `model`, in visiting order,
/// with its value. Burn visits a reparameterized parameter's base, then
/// `enter_module(NAME, "Reparameterization")`, then the adapter's fields inside
/// `enter_module(field, "Struct:<Type>")` (a `Vec` field adds an index level below).
pub(crate) fn visit_adapter_params<M: Module>(model: &M, f: impl FnMut(AdapterParam, Tensor<2>)) {
    struct Visitor<F> {
        stack: Vec<(String, String)>,
        f: F,
    }
    impl<F: FnMut(AdapterParam, Tensor<2>)> ModuleVisitor for Visitor<F> {
        fn enter_module(&mut self, name: &str, container_type: &str) {
            self.stack.push((name.to_string(), container_type.to_string()));
        }
        fn exit_module(&mut self, _name: &str, _container_type: &str) {
            self.stack.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let Some(k) = self.stack.iter().rposition(|(_, c)| c == "Reparameterization") else {
                return;
            };
            if D != 2 || k == 0 || k + 1 >= self.stack.len() {
                return;
            }
            let module = self.stack[..k - 1]
                .iter()
                .map(|(s, _)| s.as_str())
                .collect::<Vec<_>>()
                .join(".");
            let (field, adapter_type) = &self.stack[k + 1];
            let found = AdapterParam {
                module,
                reparam: &self.stack[k].0,
                field,
                adapter_type,
                id: param.id,
            };
            (self.f)(found, as_matrix(param.val()));
        }
    }
    model.visit(&mut Visitor { stack: Vec::new(), f });
}
