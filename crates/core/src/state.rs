//! State that checkpoints carry besides the model: named tensors (masks, Fisher matrices, unit
//! utilities, anchor weights, optimizer moments) plus small JSON metadata, stored as a burnpack
//! file. Tensors keep their exact bytes, so a resumed run continues bit-identically.

use crate::files::{FileError, read_verified, write_verified};
use burn::store::burn_pack::{Reader, Tensor as PackTensor, Writer};
use burn::tensor::{Bytes, Device, Tensor, TensorData};
use std::collections::BTreeMap;
use std::path::Path;

/// Named tensors (host data, any dtype) and JSON metadata.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TensorState {
    pub tensors: BTreeMap<String, TensorData>,
    /// Small metadata (counters, schedules, shapes to rebuild); `Null` when there is none.
    pub meta: serde_json::Value,
}

const META_KEY: &str = "plasticity.meta";

impl TensorState {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.tensors.is_empty() && self.meta.is_null()
    }

    /// Adds `tensor` (read to host memory) under `name`.
    pub fn put<const D: usize>(&mut self, name: impl Into<String>, tensor: Tensor<D>) {
        self.tensors.insert(name.into(), tensor.into_data());
    }

    /// The tensor `name` on `device`, if present with rank `D`.
    pub fn get<const D: usize>(&self, name: &str, device: &Device) -> Option<Tensor<D>> {
        let data = self.tensors.get(name)?;
        (data.shape().len() == D).then(|| Tensor::from_data(data.clone(), device))
    }

    /// `f32` values of `name`, if present.
    pub fn get_vec(&self, name: &str) -> Option<Vec<f32>> {
        self.tensors.get(name)?.clone().convert::<f32>().try_into_vec::<f32>().ok()
    }

    /// Adds `values` with `shape` under `name`.
    pub fn put_vec(&mut self, name: impl Into<String>, values: Vec<f32>, shape: Vec<usize>) {
        self.tensors.insert(name.into(), TensorData::new(values, shape));
    }

    /// The burnpack bytes of this state.
    pub fn to_bytes(&self) -> Result<Bytes, String> {
        let tensors = self
            .tensors
            .iter()
            .map(|(name, data)| {
                let (bytes, shape, dtype) = data.clone().into_parts();
                PackTensor::new(name.clone(), dtype, shape, None, bytes)
            })
            .collect();
        let meta = serde_json::to_string(&self.meta).map_err(|e| e.to_string())?;
        Writer::new(tensors)
            .with_metadata(META_KEY, &meta)
            .into_bytes()
            .map_err(|e| e.to_string())
    }

    /// Reads what [`to_bytes`](Self::to_bytes) wrote.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, String> {
        let reader = Reader::from_bytes(Bytes::from_bytes_vec(bytes)).map_err(|e| e.to_string())?;
        let meta = match reader.metadata().get(META_KEY) {
            Some(text) => serde_json::from_str(text).map_err(|e| format!("metadata: {e}"))?,
            None => serde_json::Value::Null,
        };
        let mut tensors = BTreeMap::new();
        for tensor in reader.into_tensors().map_err(|e| e.to_string())? {
            let (name, dtype, shape, _, bytes) = tensor.into_parts().map_err(|e| e.to_string())?;
            tensors.insert(name, TensorData::from_bytes(bytes, shape, dtype));
        }
        Ok(Self { tensors, meta })
    }

    /// Writes the state to `path` atomically, with a checksum.
    pub fn save(&self, path: &Path) -> Result<(), FileError> {
        let bytes = self
            .to_bytes()
            .map_err(|e| FileError::io(path, std::io::Error::other(e)))?;
        write_verified(path, &bytes)
    }

    /// Reads and checks a file [`save`](Self::save) wrote.
    pub fn load(path: &Path) -> Result<Self, FileError> {
        let bytes = read_verified(path)?;
        Self::from_bytes(bytes).map_err(|e| {
            FileError::io(
                path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, format!("not a state file: {e}")),
            )
        })
    }
}

/// The states of several owners (methods) in one file: tensors named `<owner>/<name>`,
/// metadata as one JSON object by owner.
pub fn bundle(states: &BTreeMap<String, TensorState>) -> TensorState {
    let mut out = TensorState::new();
    let mut meta = serde_json::Map::new();
    for (owner, state) in states {
        for (name, data) in &state.tensors {
            out.tensors.insert(format!("{owner}/{name}"), data.clone());
        }
        meta.insert(owner.clone(), state.meta.clone());
    }
    out.meta = serde_json::Value::Object(meta);
    out
}

/// Splits what [`bundle`] joined.
pub fn unbundle(state: TensorState) -> BTreeMap<String, TensorState> {
    let mut out: BTreeMap<String, TensorState> = BTreeMap::new();
    if let serde_json::Value::Object(meta) = state.meta {
        for (owner, value) in meta {
            out.entry(owner).or_default().meta = value;
        }
    }
    for (name, data) in state.tensors {
        if let Some((owner, name)) = name.split_once('/') {
            out.entry(owner.to_string()).or_default().tensors.insert(name.to_string(), data);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_bit_for_bit() {
        let device = Device::flex();
        let mut a = TensorState::new();
        a.put("mask", Tensor::<2>::from_data([[1.0f32, 0.0], [f32::MIN_POSITIVE, -0.0]], &device));
        a.meta = serde_json::json!({"step": 7});
        let mut b = TensorState::new();
        b.put_vec("utility", vec![0.1, 0.2, 0.3], vec![3]);
        let states = BTreeMap::from([("prune".to_string(), a.clone()), ("cbp".to_string(), b.clone())]);
        let bytes = bundle(&states).to_bytes().unwrap();
        let back = unbundle(TensorState::from_bytes(bytes.to_vec()).unwrap());
        assert_eq!(back, states);
        let mask: Tensor<2> = back["prune"].get("mask", &device).unwrap();
        let bits: Vec<u32> = mask.into_data().try_to_vec::<f32>().unwrap().iter().map(|x| x.to_bits()).collect();
        assert_eq!(bits, [1.0f32, 0.0, f32::MIN_POSITIVE, -0.0].map(f32::to_bits));
    }
}
