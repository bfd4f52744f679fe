//! The TriAdaptLoRA reparameterization (peft.md §3.2) and its growth hook.
//!
//! Storage per growth event t (`k_t` new ranks, `R_t = Σ_{u≤t} k_u`, `R` = current rank):
//! * `a[t]`: Burn layout `[d_in, k_t]` = the source's `A_t`ᵀ (`A_t` is `[k_t, in]`);
//! * `b[t]`: Burn layout `[k_t, d_out]` = the source's `B_t`ᵀ (`B_t` is `[out, k_t]`);
//! * `c_row[t]`: `[k_t, R_t]` and `c_col[t]`: `[R_t, k_t]`, **PyTorch/source orientation** of C,
//!   so exporting them is a plain copy.
//!
//! Growth appends new `Param`s (new `ParamId`s, so optimizer state starts fresh); the old blocks
//! keep their values and ids. Burn's `Param::map` detaches a reparameterization, maps the base,
//! maps the old reparameterization's own module and reattaches it (burn-0.22.md §11.1), so the
//! only place a mapper pass can change a reparameterization's structure is its own
//! `Module::map`. `TriAdapt` implements `Module` by hand (same paths as a derive:
//! `<module>.weight.triadapt.{a,b,c_row,c_col}.<t>`) and, inside `map`, appends blocks when a
//! thread-local growth plan set by [`with_growth_plan`] names its first A block.

use crate::adapter::as_matrix;
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId, Reparameterization};
use burn::tensor::{Device, Distribution, Tensor};
use std::cell::RefCell;
use std::collections::HashMap;

const FIELDS: [&str; 4] = ["a", "b", "c_row", "c_col"];
const CONTAINER: &str = "Struct:TriAdapt";

/// One TriAdaptLoRA adapter: `W' = W + a·Cᵀ·b · scaling / (R + 1e-5)` in Burn layout.
#[derive(Clone, Debug)]
pub struct TriAdapt {
    pub a: Vec<Param<Tensor<2>>>,
    pub b: Vec<Param<Tensor<2>>>,
    pub c_row: Vec<Param<Tensor<2>>>,
    pub c_col: Vec<Param<Tensor<2>>>,
    /// Numerator of the scale (`lora_alpha`, see [`TriAdaptConfig`](super::TriAdaptConfig)).
    pub scaling: f64,
}

/// `(L, U)` of peft.md §3.2 from the C blocks (source orientation): `L` stacks `c_row[t]`
/// padded right to width R (block-lower-triangular), `U` stacks `c_col[t]` padded at the bottom
/// to height R (block-upper-triangular). `C = L + U`, `[R, R]`.
pub fn assemble(c_row: Vec<Tensor<2>>, c_col: Vec<Tensor<2>>) -> (Tensor<2>, Tensor<2>) {
    let r = c_row.last().map_or(0, |c| c.dims()[1]);
    let pad = |t: Tensor<2>, dim: usize| {
        let dims = t.dims();
        if dims[dim] == r {
            return t;
        }
        let mut zeros = dims;
        zeros[dim] = r - dims[dim];
        let device = t.device();
        Tensor::cat(vec![t, Tensor::zeros(zeros, &device)], dim)
    };
    let l = Tensor::cat(c_row.into_iter().map(|c| pad(c, 1)).collect(), 0);
    let u = Tensor::cat(c_col.into_iter().map(|c| pad(c, 0)).collect(), 1);
    (l, u)
}

impl TriAdapt {
    /// An adapter whose increments have the given sizes (`sizes[0]` = initial rank): A and B
    /// blocks `~ N(0, std²)` from the device RNG, C blocks zero, so `ΔW = 0`.
    pub fn new(d_in: usize, d_out: usize, sizes: &[usize], scaling: f64, std: f64, device: &Device) -> Self {
        let first = sizes.first().copied().unwrap_or(1);
        let mut adapter = Self {
            a: Vec::new(),
            b: Vec::new(),
            c_row: Vec::new(),
            c_col: Vec::new(),
            scaling,
        };
        adapter.push_blocks(d_in, d_out, first, std, device);
        let rest = sizes.get(1..).unwrap_or(&[]);
        rest.iter().fold(adapter, |ad, &k| ad.grow(k, std))
    }

    fn push_blocks(&mut self, d_in: usize, d_out: usize, k: usize, std: f64, device: &Device) {
        let r = self.rank() + k;
        let normal = Distribution::Normal(0.0, std);
        let new = |shape: [usize; 2], dist: Option<Distribution>| {
            Param::from_tensor(match dist {
                Some(dist) => Tensor::random(shape, dist, device),
                None => Tensor::zeros(shape, device),
            })
        };
        self.a.push(new([d_in, k], Some(normal)));
        self.b.push(new([k, d_out], Some(normal)));
        self.c_row.push(new([k, r], None));
        self.c_col.push(new([r, k], None));
    }

    /// The same adapter with `k` more ranks: new `a [d_in, k]`, `b [k, d_out]` `~ N(0, std²)`,
    /// zero `c_row [k, R+k]`, `c_col [R+k, k]`, all new params. Existing blocks are kept as is.
    pub fn grow(mut self, k: usize, std: f64) -> Self {
        let device = self.a[0].lazy_device();
        let (d_in, d_out) = (self.a[0].lazy_shape()[0], self.b[0].lazy_shape()[1]);
        self.push_blocks(d_in, d_out, k, std, &device);
        self
    }

    /// Current rank `R = Σ k_t`.
    pub fn rank(&self) -> usize {
        self.a.iter().map(|a| a.lazy_shape()[1]).sum()
    }

    /// Increment sizes `k_t`.
    pub fn sizes(&self) -> Vec<usize> {
        self.a.iter().map(|a| a.lazy_shape()[1]).collect()
    }

    /// `scaling / (R + 1e-5)`, as in the source.
    pub fn factor(&self) -> f64 {
        self.scaling / (self.rank() as f64 + 1e-5)
    }

    /// The assembled `C = L + U`, `[R, R]`, source orientation.
    pub fn c(&self) -> Tensor<2> {
        let vals = |v: &[Param<Tensor<2>>]| v.iter().map(|p| p.val()).collect();
        let (l, u) = assemble(vals(&self.c_row), vals(&self.c_col));
        l + u
    }

    /// `ΔW` in Burn layout `[d_in, d_out]`: `a · Cᵀ · b · factor` (= `(B·C·A)ᵀ · factor`).
    pub fn delta(&self) -> Tensor<2> {
        let a = Tensor::cat(self.a.iter().map(|p| p.val()).collect(), 1);
        let b = Tensor::cat(self.b.iter().map(|p| p.val()).collect(), 0);
        a.matmul(self.c().transpose()).matmul(b).mul_scalar(self.factor())
    }

    fn fields(&self) -> [&Vec<Param<Tensor<2>>>; 4] {
        [&self.a, &self.b, &self.c_row, &self.c_col]
    }

    fn map_fields(self, mut f: impl FnMut(usize, Vec<Param<Tensor<2>>>) -> Vec<Param<Tensor<2>>>) -> Self {
        Self {
            a: f(0, self.a),
            b: f(1, self.b),
            c_row: f(2, self.c_row),
            c_col: f(3, self.c_col),
            scaling: self.scaling,
        }
    }
}

impl Reparameterization for TriAdapt {
    const NAME: &'static str = "triadapt";

    fn apply<const D: usize>(&self, base: Tensor<D>) -> Tensor<D> {
        let shape = base.shape();
        (as_matrix(base) + self.delta()).reshape(shape)
    }
}

impl Module for TriAdapt {
    fn collect_devices(&self, devices: Vec<Device>) -> Vec<Device> {
        self.fields().into_iter().fold(devices, |d, f| f.collect_devices(d))
    }

    fn fork(self, device: &Device) -> Self {
        self.map_fields(|_, f| f.fork(device))
    }

    fn to_device(self, device: &Device) -> Self {
        self.map_fields(|_, f| f.to_device(device))
    }

    fn train(self) -> Self {
        self.map_fields(|_, f| f.train())
    }

    fn valid(&self) -> Self {
        self.clone().map_fields(|_, f| f.valid())
    }

    fn materialize(self) -> Self {
        self.map_fields(|_, f| f.materialize())
    }

    fn visit<V: ModuleVisitor>(&self, visitor: &mut V) {
        for (name, field) in FIELDS.iter().zip(self.fields()) {
            visitor.enter_module(name, CONTAINER);
            field.visit(visitor);
            visitor.exit_module(name, CONTAINER);
        }
    }

    fn map<M: ModuleMapper>(self, mapper: &mut M) -> Self {
        let key = self.a.first().map(|p| p.id);
        let mapped = self.map_fields(|i, f| {
            mapper.enter_module(FIELDS[i], CONTAINER);
            let f = f.map(mapper);
            mapper.exit_module(FIELDS[i], CONTAINER);
            f
        });
        match key.and_then(planned_growth) {
            Some((k, std)) => mapped.grow(k, std),
            None => mapped,
        }
    }
}

/// Which adapters grow during one mapper pass: first-A-block id → ranks to add.
pub(crate) struct GrowthPlan {
    pub by_first_a: HashMap<ParamId, usize>,
    pub init_std: f64,
}

thread_local! {
    static GROWTH: RefCell<Option<GrowthPlan>> = const { RefCell::new(None) };
}

fn planned_growth(id: ParamId) -> Option<(usize, f64)> {
    GROWTH.with(|g| {
        let plan = g.borrow();
        let plan = plan.as_ref()?;
        plan.by_first_a.get(&id).map(|&k| (k, plan.init_std))
    })
}

struct ClearPlan;

impl Drop for ClearPlan {
    fn drop(&mut self) {
        GROWTH.with(|g| *g.borrow_mut() = None);
    }
}

struct Identity;
impl ModuleMapper for Identity {}

/// Run an identity mapper pass over `model` with `plan` active (cleared afterwards, also on
/// panic): every `TriAdapt` named in the plan comes back grown, everything else unchanged.
pub(crate) fn with_growth_plan<M: Module>(model: M, plan: GrowthPlan) -> M {
    GROWTH.with(|g| *g.borrow_mut() = Some(plan));
    let _clear = ClearPlan;
    model.map(&mut Identity)
}

/// Undo a merge (`materialize()`): `W = W' − ΔW`, Burn layout `[d_in, d_out]`.
pub fn unmerge_triadapt(merged: Tensor<2>, adapter: &TriAdapt) -> Tensor<2> {
    merged - adapter.delta()
}
