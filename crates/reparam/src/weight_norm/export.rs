//! A weight-normalized model as a PyTorch state dict (reparam-prune.md §2.3): each targeted
//! layer's `g` as `<m>.parametrizations.weight.original0` and `v` as `.original1`, the names
//! `torch.nn.utils.parametrizations.weight_norm` registers; every other parameter under its own
//! name. Linear weights are transposed to PyTorch's `[out, in]`; `g` takes PyTorch's shape,
//! `[out, 1]` for a Linear, `[c_out, 1, 1, 1]` for a Conv2d, `[]` for `dim=None`.

use super::reparam::{NormLayout, WeightNorm};
use burn::module::{Module, Reparameterization};
use plasticity_core::walk_params;
use plasticity_peft::hf::{F32Tensor, transpose, write_safetensors};
use plasticity_peft::PeftError;
use std::collections::BTreeMap;
use std::path::Path;

/// Writes `model`'s parameters to `file` with PyTorch's weight-norm names; `layouts` gives the
/// layout of each weight-normalized parameter by path.
pub fn export_weight_norm<M: Module>(
    model: &M,
    layouts: &BTreeMap<String, NormLayout>,
    file: &Path,
) -> Result<(), PeftError> {
    let mut tensors = BTreeMap::new();
    let mut failure = None;
    // A base is visited before the parameters of its reparameterization: its rank is known then.
    let mut ranks = BTreeMap::new();
    walk_params(model, true, |info, value| {
        let Some(value) = value else { return };
        let dims = info.shape.clone();
        if info.adapter.is_none() {
            ranks.insert(info.path.clone(), dims.len());
        }
        let values = match value.into_data().convert::<f32>().try_into_vec::<f32>() {
            Ok(v) => v,
            Err(e) => return failure = Some(format!("{}: {e:?}", info.path)),
        };
        let linear = info.owner == "Struct:Linear" && info.path.ends_with("weight") && dims.len() == 2;
        let torch = |values: Vec<f32>| match linear {
            true => F32Tensor::new(vec![dims[1], dims[0]], &transpose(&values, dims[0], dims[1])),
            false => F32Tensor::new(dims.clone(), &values),
        };
        match (&info.adapter, layouts.get(&info.path)) {
            // v: the stored weight of a weight-normalized parameter.
            (None, Some(_)) => {
                let name = format!("{}.parametrizations.weight.original1", info.module());
                tensors.insert(name, torch(values));
            }
            (Some(adapter), _) if adapter.name == WeightNorm::NAME => {
                let layout = layouts.get(&adapter.base).copied().unwrap_or(NormLayout::Columns);
                let base_rank = ranks.get(&adapter.base).copied().unwrap_or(2);
                let shape = match layout {
                    NormLayout::Whole => Vec::new(),
                    _ => std::iter::once(values.len()).chain(std::iter::repeat_n(1, base_rank - 1)).collect(),
                };
                let module = adapter.base.strip_suffix(".weight").unwrap_or(&adapter.base);
                tensors.insert(format!("{module}.parametrizations.weight.original0"), F32Tensor::new(shape, &values));
            }
            (None, None) => {
                tensors.insert(info.path.clone(), torch(values));
            }
            (Some(_), _) => {}
        }
    });
    if let Some(message) = failure {
        return Err(PeftError::Data(message));
    }
    write_safetensors(file, &tensors)
}
