//! The base model in PyTorch layout, for `torch_module.load_state_dict(safetensors.torch.load_file(path))`,
//! and the way back.

use super::io::{F32Tensor, TensorFile, file_error, write_safetensors};
use crate::PeftError;
use crate::adapter::base_params;
use burn::module::Module;
use burn::store::{BurnToPyTorchAdapter, ModuleSnapshot, PyTorchToBurnAdapter, bridge};
use burn::tensor::TensorData;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Write every base parameter of `model` to the safetensors file `path` in PyTorch layout:
/// Linear weights transposed to `[out, in]`, everything else (biases, conv kernels) as is, F32,
/// metadata `{"format": "pt"}`. Keys are Burn's parameter paths (`hidden.0.weight`,
/// `output.bias`), so a torch module with the same attribute names accepts the file with
/// `load_state_dict` (strict).
///
/// Adapter parameters are not written. A reparameterized weight contributes its stored frozen
/// base (`Param::base()`), not the adapted weight: the file is the base that peft's
/// `PeftModel.from_pretrained` expects under an exported adapter. To export the adapted model as a
/// plain one, merge first (`model.valid().materialize()`).
///
/// Linear weights are recognised by burn-store's `BurnToPyTorchAdapter` (a parameter named
/// `weight` directly inside a `Linear`).
pub fn export_base_pytorch<M: Module>(model: &M, path: impl AsRef<Path>) -> Result<(), PeftError> {
    export_base_pytorch_baking(model, &[], path)
}

/// [`export_base_pytorch`], with the weights in `bake` (parameter paths) written as their
/// effective values, the reparameterization applied (Burn's `materialize`), and every other
/// reparameterized weight as its stored base: the base of a model whose weight normalization
/// is baked and whose LoRA adapter is exported on its own.
pub fn export_base_pytorch_baking<M: Module>(model: &M, bake: &[String], path: impl AsRef<Path>) -> Result<(), PeftError> {
    let path = path.as_ref();
    let bases: BTreeSet<String> = base_params(model).into_iter().map(|p| p.path).collect();
    let baked = |name: &str| bake.iter().any(|b| b == name);
    let mut tensors = pytorch_tensors(model, |name| bases.contains(name) && !baked(name), path)?;
    if !bake.is_empty() {
        tensors.extend(pytorch_tensors(&model.clone().materialize(), baked, path)?);
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| file_error(parent, e))?;
    }
    write_safetensors(path, &tensors)
}

/// The parameters of `model` whose path `keep` accepts, in PyTorch layout (Linear weights
/// `[out, in]`), by Burn parameter path. Errors name `file`.
pub(crate) fn pytorch_tensors<M: Module>(
    model: &M,
    keep: impl Fn(&str) -> bool,
    file: &Path,
) -> Result<BTreeMap<String, F32Tensor>, PeftError> {
    let mut tensors = BTreeMap::new();
    for tensor in model.collect(None, Some(Box::new(BurnToPyTorchAdapter)), false) {
        if !keep(&tensor.name) {
            continue;
        }
        let name = tensor.name.clone();
        let data = bridge::into_data(tensor).map_err(|e| file_error(file, format!("tensor `{name}`: {e:?}")))?;
        let shape = data.shape().to_vec();
        let values = data
            .convert::<f32>()
            .try_into_vec::<f32>()
            .map_err(|e| file_error(file, format!("tensor `{name}`: {e:?}")))?;
        tensors.insert(name, F32Tensor::new(shape, &values));
    }
    Ok(tensors)
}

/// Loads `(Burn parameter path, PyTorch-layout shape, values)` into `model`, transposing Linear
/// weights back to `[d_in, d_out]`. Errors name `file`.
pub(crate) fn apply_pytorch<M: Module>(
    mut model: M,
    entries: impl Iterator<Item = (String, Vec<usize>, Vec<f32>)>,
    file: &Path,
) -> Result<M, PeftError> {
    let tensors = entries
        .map(|(key, shape, values)| bridge::from_data(TensorData::new(values, shape), key, None))
        .collect();
    let result = model.apply(tensors, None, Some(Box::new(PyTorchToBurnAdapter)), false);
    if let Some(error) = result.errors.first() {
        return Err(file_error(file, error));
    }
    Ok(model)
}

/// Load a PyTorch-layout safetensors file (as written by [`export_base_pytorch`] or by
/// `safetensors.torch.save_file(torch_module.state_dict(), path)`) into `model`'s base
/// parameters: Linear weights are transposed back to `[d_in, d_out]`. Every base parameter must be
/// in the file and every tensor of the file must land (the error names the file and the key);
/// adapter parameters are left as they are.
pub fn import_base_pytorch<M: Module>(model: M, path: impl AsRef<Path>) -> Result<M, PeftError> {
    let path = path.as_ref();
    let file = TensorFile::read(path)?;
    let keys: BTreeSet<String> = file.keys().cloned().collect();
    let bases: BTreeSet<String> = base_params(&model).into_iter().map(|p| p.path).collect();
    if let Some(key) = bases.difference(&keys).next() {
        return Err(file_error(
            path,
            format!("missing tensor `{key}` (a parameter of the model)"),
        ));
    }
    if let Some(key) = keys.difference(&bases).next() {
        return Err(file_error(
            path,
            format!("unexpected tensor `{key}`: the model has no such parameter"),
        ));
    }
    apply_pytorch(model, file.into_entries(), path)
}
