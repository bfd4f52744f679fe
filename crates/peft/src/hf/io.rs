//! Reading and writing safetensors files and loading tensors into a Burn module. Every error
//! names the file, and where one is involved, the key.

use crate::PeftError;
use burn::module::Module;
use burn::store::{ModuleSnapshot, bridge};
use burn::tensor::{DType, TensorData};
use safetensors::{Dtype, SafeTensors, View};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// An error about `file` (I/O, format, a key or a shape).
pub(crate) fn file_error(file: &Path, message: impl std::fmt::Display) -> PeftError {
    PeftError::Data(format!("{}: {message}", file.display()))
}

/// Tensor data as f32 values, row-major.
pub(crate) fn f32_values(data: TensorData) -> Result<Vec<f32>, PeftError> {
    data.convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| PeftError::Data(format!("{e:?}")))
}

/// Transpose a row-major `[rows, cols]` matrix.
pub fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for i in 0..rows {
        for j in 0..cols {
            out[j * rows + i] = values[i * cols + j];
        }
    }
    out
}

/// One F32 tensor to write: its shape and little-endian row-major bytes.
pub struct F32Tensor {
    pub shape: Vec<usize>,
    pub bytes: Vec<u8>,
}

impl F32Tensor {
    pub fn new(shape: Vec<usize>, values: &[f32]) -> Self {
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        Self { shape, bytes }
    }
}

impl View for &F32Tensor {
    fn dtype(&self) -> Dtype {
        Dtype::F32
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

/// Write `tensors` to `file` as safetensors with metadata `{"format": "pt"}` (what peft and
/// `safetensors.torch.save_file` write).
pub fn write_safetensors(file: &Path, tensors: &BTreeMap<String, F32Tensor>) -> Result<(), PeftError> {
    let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    safetensors::serialize_to_file(tensors.iter(), Some(metadata), file)
        .map_err(|e| file_error(file, format!("cannot write safetensors: {e}")))
}

/// The tensors of a safetensors file, taken one key at a time with their expected shapes.
pub(crate) struct TensorFile {
    pub path: PathBuf,
    tensors: BTreeMap<String, (Vec<usize>, Vec<f32>)>,
}

impl TensorFile {
    /// Read and parse the whole file (header and data are validated by the safetensors crate).
    pub(crate) fn read(path: &Path) -> Result<Self, PeftError> {
        let bytes = std::fs::read(path).map_err(|e| file_error(path, e))?;
        let parsed = SafeTensors::deserialize(&bytes)
            .map_err(|e| file_error(path, format!("not a valid safetensors file: {e}")))?;
        let mut tensors = BTreeMap::new();
        for (key, view) in parsed.iter() {
            let dtype = match view.dtype() {
                Dtype::F32 => DType::F32,
                Dtype::F16 => DType::F16,
                Dtype::BF16 => DType::BF16,
                Dtype::F64 => DType::F64,
                other => {
                    return Err(file_error(
                        path,
                        format!("tensor `{key}` has dtype {other:?}; expected F32, F16, BF16 or F64"),
                    ));
                }
            };
            let shape = view.shape().to_vec();
            let data = TensorData::from_bytes_vec(view.data().to_vec(), shape.clone(), dtype);
            let values = data
                .convert::<f32>()
                .try_into_vec::<f32>()
                .map_err(|e| file_error(path, format!("tensor `{key}`: {e:?}")))?;
            tensors.insert(key.to_string(), (shape, values));
        }
        Ok(Self {
            path: path.to_path_buf(),
            tensors,
        })
    }

    /// Remove `key`, checking its shape against `expected`.
    pub(crate) fn take(&mut self, key: &str, expected: &[usize]) -> Result<Vec<f32>, PeftError> {
        let (shape, values) = self.tensors.remove(key).ok_or_else(|| {
            file_error(
                &self.path,
                format!("missing tensor `{key}` (expected shape {expected:?})"),
            )
        })?;
        if shape != expected {
            return Err(file_error(
                &self.path,
                format!("tensor `{key}` has shape {shape:?}, expected {expected:?}"),
            ));
        }
        Ok(values)
    }

    /// The keys not yet taken.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &String> {
        self.tensors.keys()
    }

    /// Every remaining `(key, shape, values)`.
    pub(crate) fn into_entries(self) -> impl Iterator<Item = (String, Vec<usize>, Vec<f32>)> {
        self.tensors.into_iter().map(|(k, (s, v))| (k, s, v))
    }

    /// Fail if a key was not taken: it names a module that was not adapted.
    pub(crate) fn finish(self) -> Result<(), PeftError> {
        match self.tensors.keys().next() {
            None => Ok(()),
            Some(key) => Err(file_error(
                &self.path,
                format!("unexpected tensor `{key}`: no adapted module of the configured target_modules has this key"),
            )),
        }
    }
}

/// Read `adapter_config.json` as a JSON object.
pub(crate) fn read_json(path: &Path) -> Result<serde_json::Map<String, serde_json::Value>, PeftError> {
    let text = std::fs::read_to_string(path).map_err(|e| file_error(path, e))?;
    match serde_json::from_str(&text) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(file_error(path, "expected a JSON object")),
        Err(e) => Err(file_error(path, format!("invalid JSON: {e}"))),
    }
}

/// Load `(parameter path, Burn-layout shape, values)` into `model`'s parameters (adapter
/// parameters included) with burn-store's applier; every entry must land.
pub(crate) fn load_params<M: Module>(
    mut model: M,
    entries: Vec<(String, Vec<usize>, Vec<f32>)>,
    file: &Path,
) -> Result<M, PeftError> {
    let expected: Vec<String> = entries.iter().map(|(p, _, _)| p.clone()).collect();
    let tensors = entries
        .into_iter()
        .map(|(path, shape, values)| bridge::from_data(TensorData::new(values, shape), path, None))
        .collect();
    let result = model.apply(tensors, None, None, false);
    if let Some(error) = result.errors.first() {
        return Err(file_error(file, format!("loading into the model failed: {error}")));
    }
    if let Some(missing) = expected.iter().find(|p| !result.applied.contains(p)) {
        return Err(file_error(file, format!("parameter `{missing}` was not loaded")));
    }
    Ok(model)
}
