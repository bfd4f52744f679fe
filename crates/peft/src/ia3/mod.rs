//! IA3 (Liu et al. 2022, arXiv 2205.05638; peft `tuners/ia3`), peft.md §4.3.

mod config;

pub use config::Ia3Config;

use crate::PeftError;
use crate::adapter::{AdapterFactory, as_matrix, attach};
use crate::method::WeightSpace;
use crate::target::{Selection, TargetModules, select_targets};
use plasticity_core::PlasticModel;
use burn::module::{Module, Param, Reparameterization};
use burn::tensor::{Device, Tensor};

const METHOD: &str = "IA3";

/// peft's guard in `IA3Layer.unmerge`: `W / (l + 1e-8)`.
pub const UNMERGE_EPSILON: f64 = 1e-8;

/// The IA3 scaling vector of one weight. `l: [d_out]`, or `[d_in]` when `feedforward`.
/// Paths: `<module>.weight.ia3.l`. `feedforward` is configuration, not saved with the record.
#[derive(Module, Debug)]
pub struct Ia3 {
    pub l: Param<Tensor<1>>,
    pub feedforward: bool,
}

impl Reparameterization for Ia3 {
    const NAME: &'static str = "ia3";

    fn apply<const D: usize>(&self, base: Tensor<D>) -> Tensor<D> {
        let shape = base.shape();
        scale(as_matrix(base), self.l.val(), self.feedforward).reshape(shape)
    }
}

/// `W ⊙ l` per output column, or `diag(l)·W` when `feedforward`. `w: [d_in, d_out]`.
fn scale(w: Tensor<2>, l: Tensor<1>, feedforward: bool) -> Tensor<2> {
    let n = l.dims()[0];
    if feedforward {
        w * l.reshape([n, 1])
    } else {
        w * l.reshape([1, n])
    }
}

/// Undo a merge: `W = W' / (l + 1e-8)` (peft). Exact up to f32 rounding plus a relative error of
/// `1e-8/|l|`; unreliable as `l` approaches zero, as peft warns. `merged: [d_in, d_out]`.
pub fn unmerge_ia3(merged: Tensor<2>, l: Tensor<1>, feedforward: bool) -> Tensor<2> {
    let n = l.dims()[0];
    let l = l.add_scalar(UNMERGE_EPSILON);
    if feedforward {
        merged / l.reshape([n, 1])
    } else {
        merged / l.reshape([1, n])
    }
}

impl Ia3Config {
    /// Freeze `model` and attach an IA3 vector to each selected Linear weight.
    pub fn apply<M: Module>(&self, model: M) -> Result<M, PeftError> {
        let (selection, feedforward) = self.check(&model)?;
        let feedforward_paths = selection
            .modules
            .iter()
            .zip(feedforward)
            .filter(|(_, ff)| *ff)
            .map(|(m, _)| Selection::weight_path(m))
            .collect();
        Ok(attach(model, &selection, Ia3Factory { feedforward_paths }))
    }

    /// The checks of [`apply`](Self::apply): the selection and, per selected module, whether it
    /// is a feed-forward module.
    pub fn check<M: Module>(&self, model: &M) -> Result<(Selection, Vec<bool>), PeftError> {
        let selection = select_targets(model, METHOD, &self.target_modules, self.exclude_modules.as_ref(), true)?;
        let Some(ff) = &self.feedforward_modules else {
            let none = vec![false; selection.modules.len()];
            return Ok((selection, none));
        };
        let matcher = ff.compile(METHOD)?;
        if let Some(pattern) = ff.first_unmatched(METHOD, selection.modules.iter().map(String::as_str))? {
            return Err(PeftError::Config {
                method: METHOD,
                key: "feedforward_modules",
                value: pattern,
                reason: format!(
                    "must select one of the target modules (a subset of target_modules); targets: [{}]",
                    selection.modules.join(", ")
                ),
            });
        }
        let flags = selection.modules.iter().map(|m| matcher.matches(m)).collect();
        Ok((selection, flags))
    }
}

struct Ia3Factory {
    feedforward_paths: Vec<String>,
}

impl AdapterFactory for Ia3Factory {
    type Reparam = Ia3;
    fn create(&mut self, path: &str, [d_in, d_out]: [usize; 2], device: &Device) -> Ia3 {
        let feedforward = self.feedforward_paths.iter().any(|p| p == path);
        let n = if feedforward { d_in } else { d_out };
        Ia3 {
            l: Param::from_tensor(Tensor::ones([n], device)),
            feedforward,
        }
    }
}

/// peft cannot load our IA3 files (peft also scales the bias), so `export` writes the merged base.
impl WeightSpace for Ia3Config {
    const NAME: &'static str = "ia3";
    fn targets(&mut self) -> (&mut TargetModules, &mut Option<TargetModules>) {
        (&mut self.target_modules, &mut self.exclude_modules)
    }
    fn attach_to<M: PlasticModel>(&self, model: M) -> Result<M, PeftError> {
        self.apply(model)
    }
}
