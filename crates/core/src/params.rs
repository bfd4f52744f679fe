//! The one parameter walker: every float parameter of a Burn module with its dotted path, shape,
//! trainability, and where it sits (a base, a parameter inside a reparameterization, a method's
//! own module). Burn has no `named_parameters`; paths are built from `enter_module` /
//! `exit_module` as Burn's own `ParamGroup` mapper does (burn-0.22.md §1). A reparameterized
//! parameter is visited as its base, then `enter_module(NAME, "Reparameterization")`, then the
//! adapter's fields inside `enter_module(field, "Struct:<Type>")`.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamGroup, ParamId};
use std::collections::BTreeMap;
use burn::tensor::{Tensor, TensorData};

/// Where a parameter inside a reparameterization belongs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdapterOf {
    /// Path of the reparameterized (base) parameter, e.g. `hidden.0.weight`.
    pub base: String,
    /// The reparameterization's `NAME` (`lora`, `miss`, `triadapt`, …).
    pub name: String,
    /// Container type Burn gives the adapter's fields (`Struct:LoraAdapter`, …).
    pub kind: String,
    /// Path of the parameter inside the adapter (`a`, `b`, `c_row.0`, …).
    pub field: String,
    /// True for a parameter of a reparameterization nested inside another one.
    pub nested: bool,
}

/// One float parameter.
#[derive(Clone, Debug)]
pub struct ParamInfo {
    /// Dotted path, e.g. `hidden.0.weight` or `hidden.0.weight.lora.a`.
    pub path: String,
    pub id: ParamId,
    /// Stored shape.
    pub shape: Vec<usize>,
    pub trainable: bool,
    /// For a base: the `NAME` of its reparameterization, if one is attached.
    pub reparameterization: Option<String>,
    /// For a parameter inside a reparameterization: what it adapts.
    pub adapter: Option<AdapterOf>,
    /// For a parameter of a method's own module (see [`crate::MethodModules`]): the method.
    pub method: Option<String>,
    /// Container type of the module that holds the parameter, as Burn names it
    /// (`Struct:Linear`, `Struct:Conv2d`, …; empty at the root).
    pub owner: String,
}

impl ParamInfo {
    pub fn count(&self) -> usize {
        self.shape.iter().product()
    }
    /// The module owning a base parameter (`hidden.0` for `hidden.0.weight`).
    pub fn module(&self) -> &str {
        self.path.rsplit_once('.').map_or("", |(m, _)| m)
    }
}

/// A parameter's value: the stored tensor for a base, the tensor of an adapter field.
pub enum ParamValue {
    R1(Tensor<1>),
    R2(Tensor<2>),
    R3(Tensor<3>),
    R4(Tensor<4>),
    /// Rank 5 or more, read to host memory.
    Data(TensorData),
}

impl ParamValue {
    fn of<const D: usize>(tensor: Tensor<D>) -> Self {
        let dims = tensor.dims();
        match D {
            1 => Self::R1(tensor.reshape([dims[0]])),
            2 => Self::R2(tensor.reshape([dims[0], dims[1]])),
            3 => Self::R3(tensor.reshape([dims[0], dims[1], dims[2]])),
            4 => Self::R4(tensor.reshape([dims[0], dims[1], dims[2], dims[3]])),
            _ => Self::Data(tensor.into_data()),
        }
    }

    /// The value as a matrix, when it has rank 2.
    pub fn matrix(self) -> Option<Tensor<2>> {
        match self {
            Self::R2(t) => Some(t),
            _ => None,
        }
    }

    /// The value flattened to `[n]` (row-major), staying on its device (and in the autodiff
    /// graph); `None` for rank 5 and more, which are read to host memory.
    pub fn flatten(self) -> Option<Tensor<1>> {
        fn flat<const D: usize>(t: Tensor<D>) -> Tensor<1> {
            let n = t.shape().num_elements();
            t.reshape([n])
        }
        match self {
            Self::R1(t) => Some(t),
            Self::R2(t) => Some(flat(t)),
            Self::R3(t) => Some(flat(t)),
            Self::R4(t) => Some(flat(t)),
            Self::Data(_) => None,
        }
    }

    /// The values in host memory.
    pub fn into_data(self) -> TensorData {
        match self {
            Self::R1(t) => t.into_data(),
            Self::R2(t) => t.into_data(),
            Self::R3(t) => t.into_data(),
            Self::R4(t) => t.into_data(),
            Self::Data(d) => d,
        }
    }
}

/// A tensor's values in host memory, as f32 (empty if they cannot be read as floats).
pub fn host_values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec::<f32>().unwrap_or_default()
}

/// Every float parameter of `module`, in visiting order. Reading the shapes initialises lazy
/// parameters, so clones stop sharing the lazy cell (burn-0.22.md §11.7): call it on a fresh
/// model before cloning, freezing or reparameterizing it.
pub fn param_infos<M: Module>(module: &M) -> Vec<ParamInfo> {
    let mut out = Vec::new();
    walk_params(module, false, |info, _| out.push(info.clone()));
    out
}

/// Calls `f` for every float parameter of `module` with its value (when `values` is true; with
/// false the value is `None` and no tensor is touched beyond its shape).
pub fn walk_params<M: Module>(module: &M, values: bool, f: impl FnMut(&ParamInfo, Option<ParamValue>)) {
    let mut walker = Walker {
        values,
        stack: Vec::new(),
        pending: None,
        f,
    };
    module.visit(&mut walker);
}

/// Paths of the stored weights that carry the reparameterization `name` (Burn's
/// `Reparameterization::NAME`), e.g. `["hidden.0.weight"]` for `"lora"`.
pub fn reparameterized<M: Module>(module: &M, name: &str) -> Vec<String> {
    param_infos(module)
        .into_iter()
        .filter(|p| p.adapter.is_none() && p.reparameterization.as_deref() == Some(name))
        .map(|p| p.path)
        .collect()
}

/// `module` with the parameters at the paths of `values` set to those values (flattened, `[n]`;
/// reshaped to each parameter's shape), keeping each parameter's id and whether it trains.
/// Paths that name no parameter are ignored.
pub fn set_params<M: Module>(module: M, values: BTreeMap<String, Tensor<1>>) -> M {
    module.map(&mut SetValues {
        values,
        path: Vec::new(),
    })
}

struct SetValues {
    values: BTreeMap<String, Tensor<1>>,
    path: Vec<String>,
}

impl ModuleMapper for SetValues {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some(value) = self.values.remove(&self.path.join(".")) else {
            return param;
        };
        let (id, tensor, mapper) = param.consume();
        let trainable = tensor.is_require_grad();
        let value: Tensor<D> = value.reshape(tensor.dims()).to_device(&tensor.device()).detach();
        Param::from_mapped_value(id, value.set_require_grad(trainable), mapper)
    }
}

/// The ids of the parameters `keep` selects, as a group (for `into_record_group`, optimizer
/// groups, freezing).
pub fn group_of<M: Module>(module: &M, keep: impl Fn(&ParamInfo) -> bool) -> ParamGroup {
    ParamGroup::from_ids(param_infos(module).iter().filter(|p| keep(p)).map(|p| p.id).collect())
}

/// Trainable and total parameter counts.
#[derive(Clone, Copy, Debug, Default, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct ParamCounts {
    pub trainable: usize,
    pub total: usize,
}

impl ParamCounts {
    pub fn of(params: &[ParamInfo]) -> Self {
        params.iter().fold(Self::default(), |mut c, p| {
            c.total += p.count();
            if p.trainable {
                c.trainable += p.count();
            }
            c
        })
    }
}

struct Frame {
    name: String,
    container: String,
}

struct Walker<F: FnMut(&ParamInfo, Option<ParamValue>)> {
    values: bool,
    stack: Vec<Frame>,
    /// The last parameter visited, held back until we know whether a reparameterization
    /// follows it (Burn visits the base first, then enters the reparameterization).
    pending: Option<(ParamInfo, Option<ParamValue>)>,
    f: F,
}

impl<F: FnMut(&ParamInfo, Option<ParamValue>)> Walker<F> {
    fn path(&self) -> String {
        let names: Vec<&str> = self.stack.iter().map(|f| f.name.as_str()).collect();
        names.join(".")
    }

    fn flush(&mut self) {
        if let Some((info, value)) = self.pending.take() {
            (self.f)(&info, value);
        }
    }

    /// Where the parameter at the current position sits, from the stack.
    fn placement(&self) -> (Option<AdapterOf>, Option<String>) {
        let method = self
            .stack
            .iter()
            .find(|f| f.container == crate::module::CONTAINER_TYPE)
            .map(|f| f.name.clone());
        let reparams: Vec<usize> = (0..self.stack.len())
            .filter(|&i| self.stack[i].container == REPARAMETERIZATION)
            .collect();
        let Some(&k) = reparams.first() else {
            return (None, method);
        };
        let base: Vec<&str> = self.stack[..k].iter().map(|f| f.name.as_str()).collect();
        let field: Vec<&str> = self.stack[k + 1..].iter().map(|f| f.name.as_str()).collect();
        let adapter = AdapterOf {
            base: base.join("."),
            name: self.stack[k].name.clone(),
            kind: self.stack.get(k + 1).map(|f| f.container.clone()).unwrap_or_default(),
            field: field.join("."),
            nested: reparams.len() > 1,
        };
        (Some(adapter), method)
    }
}

impl<F: FnMut(&ParamInfo, Option<ParamValue>)> Drop for Walker<F> {
    fn drop(&mut self) {
        self.flush();
    }
}

/// The container type Burn passes to `enter_module` for a reparameterization.
const REPARAMETERIZATION: &str = "Reparameterization";

impl<F: FnMut(&ParamInfo, Option<ParamValue>)> ModuleVisitor for Walker<F> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        if container_type == REPARAMETERIZATION {
            let here = self.path();
            if let Some((info, _)) = &mut self.pending
                && info.path == here
            {
                info.reparameterization = Some(name.to_string());
            }
        }
        self.flush();
        self.stack.push(Frame {
            name: name.to_string(),
            container: container_type.to_string(),
        });
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.flush();
        self.stack.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.flush();
        let value = param.val();
        let (adapter, method) = self.placement();
        let info = ParamInfo {
            path: self.path(),
            id: param.id,
            shape: value.dims().to_vec(),
            trainable: param.is_require_grad(),
            reparameterization: None,
            adapter,
            method,
            owner: self.stack.last().map(|f| f.container.clone()).unwrap_or_default(),
        };
        let value = self.values.then(|| ParamValue::of(value));
        self.pending = Some((info, value));
    }
}
