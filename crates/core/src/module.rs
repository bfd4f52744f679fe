//! Trainable modules that methods keep beside the model (TauGate's gates), held type-erased.
//!
//! A method's module is an ordinary `#[derive(Module)]` type. The runner cannot name its type,
//! so it holds it as a `Box<dyn DynModule>`, and [`MethodModules`] implements Burn's `Module` over
//! the list: the optimizer steps the methods' parameters, checkpoints record them under
//! `modules.<method>.<field>`, and `valid()`/`train()`/device moves reach them. Burn's
//! `ModuleVisitor` and `ModuleMapper` have generic methods, so they cannot cross a `dyn`
//! boundary as they are; [`DynVisitor`] and [`DynMapper`] carry them across with the tensor rank
//! as a value (ranks 1 to 6).

use burn::module::{
    Content, Devices, Flag, Module, ModuleDisplay, ModuleDisplayDefault, ModuleMapper, ModuleVisitor, Param,
};
use burn::store::{ModuleRecord, RecordError};
use burn::tensor::{Bool, Device, Int, Tensor};
use std::any::Any;

/// Highest tensor rank a method module's parameters may have.
pub const MAX_RANK: usize = 6;

/// A Burn module behind a `dyn` pointer. Implemented for every `Module`.
pub trait DynModule: Send + std::fmt::Debug + Any {
    fn clone_box(&self) -> Box<dyn DynModule>;
    fn visit_dyn(&self, visitor: &mut dyn DynVisitor);
    fn map_dyn(self: Box<Self>, mapper: &mut dyn DynMapper) -> Box<dyn DynModule>;
    fn collect_devices_dyn(&self, devices: Devices) -> Devices;
    fn fork_dyn(self: Box<Self>, device: &Device) -> Box<dyn DynModule>;
    fn to_device_dyn(self: Box<Self>, device: &Device) -> Box<dyn DynModule>;
    fn train_dyn(self: Box<Self>) -> Box<dyn DynModule>;
    fn valid_dyn(&self) -> Box<dyn DynModule>;
    fn materialize_dyn(self: Box<Self>) -> Box<dyn DynModule>;
    fn as_any(&self) -> &dyn Any;
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
    /// The module's record (burnpack), as `Module::into_record`.
    fn record_dyn(&self) -> ModuleRecord;
    /// `Module::try_load_record`.
    fn load_record_dyn(self: Box<Self>, record: ModuleRecord) -> Result<Box<dyn DynModule>, RecordError>;
}

impl<T: Module + 'static> DynModule for T {
    fn clone_box(&self) -> Box<dyn DynModule> {
        Box::new(self.clone())
    }
    fn visit_dyn(&self, visitor: &mut dyn DynVisitor) {
        self.visit(&mut FromDynVisitor(visitor));
    }
    fn map_dyn(self: Box<Self>, mapper: &mut dyn DynMapper) -> Box<dyn DynModule> {
        Box::new((*self).map(&mut FromDynMapper(mapper)))
    }
    fn collect_devices_dyn(&self, devices: Devices) -> Devices {
        self.collect_devices(devices)
    }
    fn fork_dyn(self: Box<Self>, device: &Device) -> Box<dyn DynModule> {
        Box::new((*self).fork(device))
    }
    fn to_device_dyn(self: Box<Self>, device: &Device) -> Box<dyn DynModule> {
        Box::new((*self).to_device(device))
    }
    fn train_dyn(self: Box<Self>) -> Box<dyn DynModule> {
        Box::new((*self).train())
    }
    fn valid_dyn(&self) -> Box<dyn DynModule> {
        Box::new(self.valid())
    }
    fn materialize_dyn(self: Box<Self>) -> Box<dyn DynModule> {
        Box::new((*self).materialize())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
    fn record_dyn(&self) -> ModuleRecord {
        self.clone().into_record()
    }
    fn load_record_dyn(self: Box<Self>, record: ModuleRecord) -> Result<Box<dyn DynModule>, RecordError> {
        Ok(Box::new((*self).try_load_record(record)?))
    }
}

/// The kind of a parameter tensor crossing the `dyn` boundary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    Float,
    Int,
    Bool,
}

/// An object-safe [`ModuleVisitor`]: `param` is a `&Param<Tensor<rank, kind>>`.
pub trait DynVisitor {
    fn enter_module(&mut self, name: &str, container_type: &str);
    fn exit_module(&mut self, name: &str, container_type: &str);
    fn visit(&mut self, kind: ParamKind, rank: usize, param: &dyn Any);
    fn visit_flag(&mut self, flag: &Param<Flag>);
}

/// An object-safe [`ModuleMapper`]: `param` is a boxed `Param<Tensor<rank, kind>>`, and the
/// mapper returns a box of the same type.
pub trait DynMapper {
    fn enter_module(&mut self, name: &str, container_type: &str);
    fn exit_module(&mut self, name: &str, container_type: &str);
    fn map(&mut self, kind: ParamKind, rank: usize, param: Box<dyn Any>) -> Box<dyn Any>;
    fn map_flag(&mut self, flag: Param<Flag>) -> Param<Flag>;
}

/// Calls `$body` with `$d` bound as a const rank equal to the runtime `$rank`.
macro_rules! with_rank {
    ($rank:expr, $d:ident => $body:expr) => {
        match $rank {
            1 => {
                const $d: usize = 1;
                $body
            }
            2 => {
                const $d: usize = 2;
                $body
            }
            3 => {
                const $d: usize = 3;
                $body
            }
            4 => {
                const $d: usize = 4;
                $body
            }
            5 => {
                const $d: usize = 5;
                $body
            }
            6 => {
                const $d: usize = 6;
                $body
            }
            rank => unreachable!("method module parameters have rank 1..={MAX_RANK}, got {rank}"),
        }
    };
}

fn checked_rank(rank: usize) -> usize {
    assert!(
        (1..=MAX_RANK).contains(&rank),
        "a method module's parameters must have rank 1..={MAX_RANK} (got {rank})"
    );
    rank
}

/// A generic visitor seen as a [`DynVisitor`].
struct ToDynVisitor<'a, V>(&'a mut V);

impl<V: ModuleVisitor> DynVisitor for ToDynVisitor<'_, V> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.0.enter_module(name, container_type);
    }
    fn exit_module(&mut self, name: &str, container_type: &str) {
        self.0.exit_module(name, container_type);
    }
    fn visit(&mut self, kind: ParamKind, rank: usize, param: &dyn Any) {
        with_rank!(rank, D => match kind {
            ParamKind::Float => {
                if let Some(p) = param.downcast_ref::<Param<Tensor<D>>>() {
                    self.0.visit_float(p)
                }
            }
            ParamKind::Int => {
                if let Some(p) = param.downcast_ref::<Param<Tensor<D, Int>>>() {
                    self.0.visit_int(p)
                }
            }
            ParamKind::Bool => {
                if let Some(p) = param.downcast_ref::<Param<Tensor<D, Bool>>>() {
                    self.0.visit_bool(p)
                }
            }
        })
    }
    fn visit_flag(&mut self, flag: &Param<Flag>) {
        self.0.visit_flag(flag);
    }
}

/// A [`DynVisitor`] seen as a generic visitor (what a method module's own `visit` takes).
struct FromDynVisitor<'a>(&'a mut dyn DynVisitor);

impl ModuleVisitor for FromDynVisitor<'_> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.0.enter_module(name, container_type);
    }
    fn exit_module(&mut self, name: &str, container_type: &str) {
        self.0.exit_module(name, container_type);
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.visit(ParamKind::Float, checked_rank(D), param);
    }
    fn visit_int<const D: usize>(&mut self, param: &Param<Tensor<D, Int>>) {
        self.0.visit(ParamKind::Int, checked_rank(D), param);
    }
    fn visit_bool<const D: usize>(&mut self, param: &Param<Tensor<D, Bool>>) {
        self.0.visit(ParamKind::Bool, checked_rank(D), param);
    }
    fn visit_flag(&mut self, flag: &Param<Flag>) {
        self.0.visit_flag(flag);
    }
}

/// A generic mapper seen as a [`DynMapper`].
struct ToDynMapper<'a, M>(&'a mut M);

fn remap<T: 'static>(param: Box<dyn Any>, f: impl FnOnce(T) -> T) -> Box<dyn Any> {
    match param.downcast::<T>() {
        Ok(p) => Box::new(f(*p)),
        Err(other) => other,
    }
}

impl<M: ModuleMapper> DynMapper for ToDynMapper<'_, M> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.0.enter_module(name, container_type);
    }
    fn exit_module(&mut self, name: &str, container_type: &str) {
        self.0.exit_module(name, container_type);
    }
    fn map(&mut self, kind: ParamKind, rank: usize, param: Box<dyn Any>) -> Box<dyn Any> {
        with_rank!(rank, D => match kind {
            ParamKind::Float => remap::<Param<Tensor<D>>>(param, |p| self.0.map_float(p)),
            ParamKind::Int => remap::<Param<Tensor<D, Int>>>(param, |p| self.0.map_int(p)),
            ParamKind::Bool => remap::<Param<Tensor<D, Bool>>>(param, |p| self.0.map_bool(p)),
        })
    }
    fn map_flag(&mut self, flag: Param<Flag>) -> Param<Flag> {
        self.0.map_flag(flag)
    }
}

/// A [`DynMapper`] seen as a generic mapper.
struct FromDynMapper<'a>(&'a mut dyn DynMapper);

impl FromDynMapper<'_> {
    fn through<T: 'static>(&mut self, kind: ParamKind, rank: usize, param: T) -> T {
        match self.0.map(kind, checked_rank(rank), Box::new(param)).downcast::<T>() {
            Ok(p) => *p,
            Err(_) => unreachable!("a DynMapper returns the parameter type it was given"),
        }
    }
}

impl ModuleMapper for FromDynMapper<'_> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.0.enter_module(name, container_type);
    }
    fn exit_module(&mut self, name: &str, container_type: &str) {
        self.0.exit_module(name, container_type);
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        self.through(ParamKind::Float, D, param)
    }
    fn map_int<const D: usize>(&mut self, param: Param<Tensor<D, Int>>) -> Param<Tensor<D, Int>> {
        self.through(ParamKind::Int, D, param)
    }
    fn map_bool<const D: usize>(&mut self, param: Param<Tensor<D, Bool>>) -> Param<Tensor<D, Bool>> {
        self.through(ParamKind::Bool, D, param)
    }
    fn map_flag(&mut self, flag: Param<Flag>) -> Param<Flag> {
        self.0.map_flag(flag)
    }
}

/// The trainable modules of a run's methods, by method name. Parameter paths are
/// `<method>.<the module's own path>` below wherever this container sits.
#[derive(Debug, Default)]
pub struct MethodModules {
    entries: Vec<(String, Box<dyn DynModule>)>,
}

impl Clone for MethodModules {
    fn clone(&self) -> Self {
        Self {
            entries: self.entries.iter().map(|(n, m)| (n.clone(), m.clone_box())).collect(),
        }
    }
}

/// The container type [`MethodModules`] passes to `enter_module` around each method's module.
pub const CONTAINER_TYPE: &str = "MethodModules";

impl MethodModules {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) `name`'s module.
    pub fn insert(&mut self, name: &str, module: Box<dyn DynModule>) {
        match self.entries.iter_mut().find(|(n, _)| n == name) {
            Some(entry) => entry.1 = module,
            None => self.entries.push((name.to_string(), module)),
        }
    }

    /// `name`'s module, type-erased.
    pub fn get(&self, name: &str) -> Option<&dyn DynModule> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, m)| m.as_ref())
    }

    /// `name`'s module as its own type.
    pub fn get_as<T: 'static>(&self, name: &str) -> Option<&T> {
        self.get(name).and_then(|m| m.as_any().downcast_ref::<T>())
    }

    /// Takes `name`'s module out as its own type (for example to save it as a plain record).
    pub fn take_as<T: 'static>(&mut self, name: &str) -> Option<T> {
        let index = self.entries.iter().position(|(n, m)| n == name && m.as_any().is::<T>())?;
        let (_, module) = self.entries.remove(index);
        module.into_any().downcast::<T>().ok().map(|m| *m)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(n, _)| n.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Takes `name`'s module out, type-erased.
    pub fn remove(&mut self, name: &str) -> Option<Box<dyn DynModule>> {
        let index = self.entries.iter().position(|(n, _)| n == name)?;
        Some(self.entries.remove(index).1)
    }

    fn map_entries(self, f: impl Fn(Box<dyn DynModule>) -> Box<dyn DynModule>) -> Self {
        Self {
            entries: self.entries.into_iter().map(|(n, m)| (n, f(m))).collect(),
        }
    }
}

impl Module for MethodModules {
    fn collect_devices(&self, mut devices: Devices) -> Devices {
        for (_, m) in &self.entries {
            devices = m.collect_devices_dyn(devices);
        }
        devices
    }
    fn fork(self, device: &Device) -> Self {
        self.map_entries(|m| m.fork_dyn(device))
    }
    fn to_device(self, device: &Device) -> Self {
        self.map_entries(|m| m.to_device_dyn(device))
    }
    fn train(self) -> Self {
        self.map_entries(|m| m.train_dyn())
    }
    fn valid(&self) -> Self {
        Self {
            entries: self.entries.iter().map(|(n, m)| (n.clone(), m.valid_dyn())).collect(),
        }
    }
    fn materialize(self) -> Self {
        self.map_entries(|m| m.materialize_dyn())
    }
    fn visit<V: ModuleVisitor>(&self, visitor: &mut V) {
        for (name, module) in &self.entries {
            visitor.enter_module(name, CONTAINER_TYPE);
            module.visit_dyn(&mut ToDynVisitor(visitor));
            visitor.exit_module(name, CONTAINER_TYPE);
        }
    }
    fn map<M: ModuleMapper>(self, mapper: &mut M) -> Self {
        let entries = self
            .entries
            .into_iter()
            .map(|(name, module)| {
                mapper.enter_module(&name, CONTAINER_TYPE);
                let module = module.map_dyn(&mut ToDynMapper(mapper));
                mapper.exit_module(&name, CONTAINER_TYPE);
                (name, module)
            })
            .collect();
        Self { entries }
    }
}

impl ModuleDisplayDefault for MethodModules {
    fn content(&self, content: Content) -> Option<Content> {
        let names: Vec<&str> = self.names().collect();
        content
            .add_debug_attribute("methods", &names)
            .set_top_level_type(CONTAINER_TYPE)
            .optional()
    }
    fn num_params(&self) -> usize {
        Module::num_params(self)
    }
}

impl ModuleDisplay for MethodModules {}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::ParamGroup;
    use burn::nn::{Linear, LinearConfig};

    #[derive(Module, Debug)]
    struct Pair {
        a: Linear,
        scale: Param<Tensor<3>>,
    }

    fn modules(device: &Device) -> MethodModules {
        let mut m = MethodModules::new();
        let pair = Pair {
            a: LinearConfig::new(3, 2).init(device),
            scale: Param::from_tensor(Tensor::ones([1, 2, 1], device)),
        };
        m.insert("pair", Box::new(pair));
        m
    }

    /// Paths and counts are those of the module itself, prefixed by the method name; a record
    /// round trip through Burn's store reproduces the values.
    #[test]
    fn erased_modules_visit_map_and_record_like_their_type() {
        let device = Device::flex();
        let m = modules(&device);
        assert_eq!(Module::num_params(&m), 3 * 2 + 2 + 2);
        let record = m.clone().into_record();
        assert_eq!(record.len(), 3);
        let zeroed = m.clone().map(&mut Zero);
        let pair = zeroed.get_as::<Pair>("pair").unwrap();
        assert_eq!(pair.scale.val().sum().into_scalar::<f32>(), 0.0);
        let restored = zeroed.try_load_record(record).unwrap();
        let pair = restored.get_as::<Pair>("pair").unwrap();
        assert_eq!(pair.scale.val().sum().into_scalar::<f32>(), 2.0);
        let only = m.into_record_group(ParamGroup::from_path("pair.scale"));
        assert_eq!(only.len(), 1);
    }

    struct Zero;
    impl ModuleMapper for Zero {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            param.map(|t| t.zeros_like())
        }
    }
}
