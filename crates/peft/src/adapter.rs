//! Attaching a method's reparameterization to the selected weights, written once for every
//! weight-space method (style.md: "Write them once, generic over the method").

use crate::target::Selection;
use burn::module::{Module, Param, ParamGroup, Reparameterization, Reparameterizer};
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
