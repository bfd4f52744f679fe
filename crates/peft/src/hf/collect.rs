//! A visitor that lists a model's reparameterized weights with their adapter tensors (Burn
//! layout).
//!
//! Burn's traversal hides the reparameterization object itself: a reparameterized parameter is
//! visited as its base, then `enter_module(NAME, "Reparameterization")`, then the adapter's own
//! fields inside `enter_module(field, "Struct:<Type>")`. The adapter type is therefore read from
//! that container type, and non-parameter fields (LoRA's `scale`) are not visible at all.

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Tensor, TensorData};
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
    let mut visitor = Visitor {
        with_data,
        ..Visitor::default()
    };
    model.visit(&mut visitor);
    visitor.done.into_iter().map(Open::finish).collect()
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

#[derive(Default)]
struct Visitor {
    with_data: bool,
    stack: Vec<String>,
    /// Nesting depth inside reparameterizations.
    depth: usize,
    /// The last base parameter seen outside any reparameterization.
    last: Option<(String, Vec<usize>)>,
    done: Vec<Open>,
}

impl ModuleVisitor for Visitor {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        if container_type == "Reparameterization" {
            if self.depth == 0
                && let Some((param, shape)) = self.last.take()
            {
                self.done.push(Open {
                    param,
                    shape,
                    name: name.to_string(),
                    kind: None,
                    fields: BTreeMap::new(),
                });
            }
            self.depth += 1;
        } else if self.depth == 1
            && let Some(open) = self.done.last_mut()
        {
            // A field of the adapter struct itself (depth 1, directly under the NAME component).
            if self.stack.last().map(String::as_str) == Some(open.name.as_str()) {
                open.kind.get_or_insert_with(|| container_type.to_string());
            }
        }
        self.stack.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, container_type: &str) {
        if container_type == "Reparameterization" {
            self.depth -= 1;
        }
        self.stack.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if self.depth == 0 {
            self.last = Some((self.stack.join("."), param.base().dims().to_vec()));
            return;
        }
        // A direct field of a top-level adapter: the stack ends with `<NAME>.<field>`.
        let n = self.stack.len();
        if self.depth == 1
            && n >= 2
            && let Some(open) = self.done.last_mut()
            && self.stack[n - 2] == open.name
        {
            let data = if self.with_data {
                param.val().into_data()
            } else {
                TensorData::new(Vec::<f32>::new(), [0])
            };
            open.fields.insert(self.stack[n - 1].clone(), data);
        }
    }
}
