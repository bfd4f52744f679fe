//! Attaching a method's reparameterization to the selected weights, written once for every
//! weight-space method (style.md: "Write them once, generic over the method").

use crate::target::Selection;
use burn::module::{Module, Param, ParamGroup, ParamId, Reparameterization, Reparameterizer};
use burn::tensor::{Device, Tensor};
use plasticity_core::{AdapterOf, ParamInfo, param_infos, walk_params};

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

/// The module of a weight path (`hidden.0` for `hidden.0.weight`, `` for `weight`).
pub(crate) fn module_of(param: &str) -> &str {
    param.strip_suffix(".weight").unwrap_or(if param == "weight" { "" } else { param })
}

/// Every 2-D parameter inside a (non-nested) reparameterization of `model`, in visiting order,
/// with its value (tracked when the model is: LoRA dropout trains through it).
pub(crate) fn adapter_matrices<M: Module>(model: &M) -> Vec<(AdapterOf, ParamId, Tensor<2>)> {
    let mut out = Vec::new();
    walk_params(model, true, |info, value| {
        if let (Some(adapter), Some(matrix)) = (&info.adapter, value.and_then(|v| v.matrix()))
            && !adapter.nested
        {
            out.push((adapter.clone(), info.id, matrix));
        }
    });
    out
}

/// Every base parameter of `model` (outside reparameterizations and method modules).
pub fn base_params<M: Module>(model: &M) -> Vec<ParamInfo> {
    param_infos(model).into_iter().filter(|p| p.adapter.is_none() && p.method.is_none()).collect()
}

/// Every parameter inside a reparameterization of `model` (the adapters).
pub fn adapter_params<M: Module>(model: &M) -> Vec<ParamInfo> {
    param_infos(model).into_iter().filter(|p| p.adapter.is_some()).collect()
}

/// Number of scalar parameters inside reparameterizations (what the weight-space methods of
/// this crate train; they freeze every base).
pub fn adapter_count<M: Module>(model: &M) -> usize {
    adapter_params(model).iter().map(ParamInfo::count).sum()
}
