//! A model's reparameterized weights with their adapter tensors (Burn layout), from the one
//! parameter walker (`plasticity_core::params`).
//!
//! Burn's traversal hides the reparameterization object itself: the adapter type is read from
//! the container type Burn gives its fields, and non-parameter fields (LoRA's `scale`) are not
//! visible at all.

use burn::module::Module;
use burn::tensor::TensorData;
use plasticity_core::walk_params;
use std::collections::BTreeMap;

/// The adapter attached to one weight, as found in the model (tensor data in Burn layout).
pub(crate) enum Found {
    /// `a: [d_in, r]`, `b: [r, d_out]` (Burn's `LoraAdapter`).
    Lora { a: TensorData, b: TensorData },
    /// MiSS bone `[r, d_out]`.
    Bone(TensorData),
    /// MiSS mini `[r, mini_r]`.
    Mini(TensorData),
    /// MiSS bat `[d_out/r, r, r]`.
    Bat(TensorData),
    /// A reparameterization this module cannot export: `NAME` and adapter type.
    Other(String),
}

impl Found {
    /// A short name for error messages.
    pub(crate) fn kind(&self) -> String {
        match self {
            Self::Lora { .. } => "LoRA".into(),
            Self::Bone(_) => "MiSS bone".into(),
            Self::Mini(_) => "MiSS mini".into(),
            Self::Bat(_) => "MiSS bat".into(),
            Self::Other(name) => format!("`{name}`"),
        }
    }
}

/// One reparameterized parameter.
pub(crate) struct Adapted {
    /// Parameter path, e.g. `hidden.0.weight`.
    pub param: String,
    /// Stored (base) shape.
    pub shape: Vec<usize>,
    pub found: Found,
}

impl Adapted {
    /// The module path (`hidden.0.weight` → `hidden.0`); `None` for a parameter not named `weight`.
    pub(crate) fn module(&self) -> Option<&str> {
        self.param.strip_suffix(".weight")
    }
}

/// Every reparameterized float parameter of `model`, in visiting order. With `with_data`
/// false the adapter tensors are not read back (their data is empty).
pub(crate) fn adapted<M: Module>(model: &M, with_data: bool) -> Vec<Adapted> {
    let mut open: Vec<Open> = Vec::new();
    walk_params(model, with_data, |info, value| {
        if let Some(name) = &info.reparameterization
            && info.adapter.is_none()
        {
            open.push(Open {
                param: info.path.clone(),
                shape: info.shape.clone(),
                name: name.clone(),
                kind: None,
                fields: BTreeMap::new(),
            });
            return;
        }
        // A direct field of a top-level adapter (`<param>.<NAME>.<field>`).
        let Some(adapter) = &info.adapter else { return };
        let Some(last) = open.last_mut() else { return };
        if adapter.nested || adapter.field.contains('.') || adapter.base != last.param {
            return;
        }
        last.kind.get_or_insert_with(|| adapter.kind.clone());
        let data = match value {
            Some(v) => v.into_data(),
            None => TensorData::new(Vec::<f32>::new(), [0]),
        };
        last.fields.insert(adapter.field.clone(), data);
    });
    open.into_iter().map(Open::finish).collect()
}

/// A reparameterized parameter being visited: its base, then its adapter's fields.
struct Open {
    param: String,
    shape: Vec<usize>,
    name: String,
    kind: Option<String>,
    fields: BTreeMap<String, TensorData>,
}

impl Open {
    fn finish(mut self) -> Adapted {
        let mut take = |f: &str| self.fields.remove(f);
        let found = match (self.kind.as_deref(), take("a"), take("b")) {
            (Some("Struct:LoraAdapter"), Some(a), Some(b)) => Found::Lora { a, b },
            (Some("Struct:MissBone"), None, Some(b)) => Found::Bone(b),
            (Some("Struct:MissMini"), None, Some(b)) => Found::Mini(b),
            (Some("Struct:MissBat"), None, Some(b)) => Found::Bat(b),
            (kind, _, _) => Found::Other(format!("{} ({})", self.name, kind.unwrap_or("no fields"))),
        };
        Adapted {
            param: self.param,
            shape: self.shape,
            found,
        }
    }
}
