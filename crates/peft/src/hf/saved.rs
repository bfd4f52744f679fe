//! `modules_to_save` in peft adapter directories: each parameter of a saved module is written as
//! `base_model.model.<M>.<param>` in PyTorch layout (`base_model.model.output.weight` `[out, in]`),
//! as peft saves the trained copy of a `ModulesToSaveWrapper`, and `adapter_config.json` lists the
//! exported module names under `modules_to_save` (null when there are none). Also the writing
//! and loading of a whole adapter directory, which every format (LoRA, MiSS) ends with.

use super::base::{apply_pytorch, pytorch_tensors};
use super::config_json::{ConfigFile, to_python_json};
use super::io::{F32Tensor, TensorFile, file_error, load_params, write_safetensors};
use super::{ADAPTER_CONFIG, ADAPTER_WEIGHTS, HfOptions, KEY_PREFIX};
use crate::PeftError;
use crate::saved::{SavedParam, saved_params};
use burn::module::Module;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The file key of a saved parameter.
fn key(param: &SavedParam, options: &HfOptions) -> String {
    format!("{KEY_PREFIX}{}.{}", options.hf_name(&param.module), param.field())
}

/// Writes the adapter directory `dir`: `tensors` and the parameters of
/// `options.modules_to_save` to `adapter_model.safetensors`, and `json` (with the saved modules'
/// names) to `adapter_config.json`.
pub(crate) fn write_adapter_dir<M: Module>(
    model: &M,
    dir: &Path,
    options: &HfOptions,
    mut tensors: BTreeMap<String, F32Tensor>,
    mut json: Value,
) -> Result<(), PeftError> {
    let weights = dir.join(ADAPTER_WEIGHTS);
    export_saved(model, options, &mut tensors, &mut json, &weights)?;
    std::fs::create_dir_all(dir).map_err(|e| file_error(dir, e))?;
    write_safetensors(&weights, &tensors)?;
    let path = dir.join(ADAPTER_CONFIG);
    std::fs::write(&path, to_python_json(&json)).map_err(|e| file_error(&path, e))
}

/// Loads the adapter `entries` (parameter path, Burn-layout shape, values, taken from
/// `weights`) and the saved modules `saved` into `model`; every tensor of the file must be used.
pub(crate) fn load_adapter_dir<M: Module>(
    model: M,
    entries: Vec<(String, Vec<usize>, Vec<f32>)>,
    mut weights: TensorFile,
    saved: &[String],
    options: &HfOptions,
) -> Result<M, PeftError> {
    let path = weights.path.clone();
    let model = import_saved(model, saved, &mut weights, options)?;
    weights.finish()?;
    load_params(model, entries, &path)
}

/// Adds the parameters of `options.modules_to_save` to `tensors` and their exported module names
/// to `json` (an `adapter_config.json` object).
fn export_saved<M: Module>(
    model: &M,
    options: &HfOptions,
    tensors: &mut BTreeMap<String, F32Tensor>,
    json: &mut Value,
    file: &Path,
) -> Result<(), PeftError> {
    let params = saved_params(model, &options.modules_to_save)?;
    if params.is_empty() {
        return Ok(());
    }
    let paths: BTreeSet<&str> = params.iter().map(|p| p.param.as_str()).collect();
    let mut values = pytorch_tensors(model, |name| paths.contains(name), file)?;
    let mut modules = BTreeSet::new();
    for param in &params {
        let tensor = values.remove(&param.param).ok_or_else(|| {
            PeftError::Data(format!(
                "{}: parameter `{}` could not be read",
                file.display(),
                param.param
            ))
        })?;
        tensors.insert(key(param, options), tensor);
        modules.insert(options.hf_name(&param.module));
    }
    if let Value::Object(map) = json {
        map.insert("modules_to_save".into(), modules.into_iter().collect::<Vec<_>>().into());
    }
    Ok(())
}

/// The Burn module names of a file's `modules_to_save` (empty when null or absent).
pub(crate) fn saved_names(file: &ConfigFile, options: &HfOptions) -> Result<Vec<String>, PeftError> {
    match file.map.get("modules_to_save") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(|s| options.burn_name(s)))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| file.bad("modules_to_save", "null or a list of module names")),
        Some(_) => Err(file.bad("modules_to_save", "null or a list of module names")),
    }
}

/// Loads the saved modules `names` from `weights` into `model` (Linear weights transposed back).
fn import_saved<M: Module>(
    model: M,
    names: &[String],
    weights: &mut TensorFile,
    options: &HfOptions,
) -> Result<M, PeftError> {
    let params = saved_params(&model, names)?;
    if params.is_empty() {
        return Ok(model);
    }
    let paths: BTreeSet<&str> = params.iter().map(|p| p.param.as_str()).collect();
    let shapes = pytorch_tensors(&model, |name| paths.contains(name), &weights.path)?;
    let mut entries = Vec::new();
    for param in &params {
        let shape = shapes[&param.param].shape.clone();
        let values = weights.take(&key(param, options), &shape)?;
        entries.push((param.param.clone(), shape, values));
    }
    let file = weights.path.clone();
    apply_pytorch(model, entries.into_iter(), &file)
}
