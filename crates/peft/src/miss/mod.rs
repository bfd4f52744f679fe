//! MiSS (formerly Bone/Bat; arXiv 2409.15371, peft `tuners/miss`), peft.md §2.

mod config;
mod reparam;
mod unmerge;

pub use config::{MissConfig, MissVariant};
pub use reparam::{MissBat, MissBone, MissMini, expand_mini, tiled_delta};
pub use unmerge::{invert, unmerge_bat, unmerge_bone, unmerge_mini};

use crate::adapter::{AdapterFactory, attach};
use crate::method::WeightSpace;
use crate::target::{Selection, TargetModules, select_targets};
use crate::{HfOptions, PeftError};
use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};
use plasticity_core::PlasticModel;
use std::path::Path;

const METHOD: &str = "MiSS";

impl MissConfig {
    /// Freeze `model` and attach the configured MiSS variant to the selected Linear weights.
    /// Every check (targets, existing reparameterizations, ranks, divisibility) runs first.
    pub fn apply<M: Module>(&self, model: M) -> Result<M, PeftError> {
        let selection = self.check(&model)?;
        let r = self.r;
        Ok(match self.variant {
            MissVariant::Bone => attach(model, &selection, BoneFactory { r }),
            MissVariant::Bat => attach(model, &selection, BatFactory { r }),
            MissVariant::Mini => attach(model, &selection, MiniFactory { r, mini_r: self.mini_r }),
        })
    }

    /// The checks of [`apply`](Self::apply), returning the selection.
    pub fn check<M: Module>(&self, model: &M) -> Result<Selection, PeftError> {
        PeftError::check_positive(METHOD, &[("r", self.r), ("mini_r", self.mini_r)])?;
        let selection = select_targets(model, METHOD, &self.target_modules, self.exclude_modules.as_ref(), true)?;
        for (module, shape) in selection.modules.iter().zip(&selection.shapes) {
            let (d_in, d_out) = (shape[0], shape[1]);
            let reason = match self.variant {
                MissVariant::Bone => None,
                MissVariant::Bat if d_in % self.r != 0 || d_out % self.r != 0 => Some(format!(
                    "bat needs d_in and d_out divisible by r = {} (r×r blocks); got d_in % r = {}, d_out % r = {}",
                    self.r,
                    d_in % self.r,
                    d_out % self.r
                )),
                MissVariant::Bat => None,
                MissVariant::Mini if d_out % self.mini_r != 0 => {
                    Some(format!("mini needs d_out divisible by mini_r = {}", self.mini_r))
                }
                MissVariant::Mini => None,
            };
            if let Some(reason) = reason {
                return Err(PeftError::Shape {
                    method: METHOD,
                    module: module.clone(),
                    shape: shape.clone(),
                    reason,
                });
            }
        }
        Ok(selection)
    }
}

struct BoneFactory {
    r: usize,
}

impl AdapterFactory for BoneFactory {
    type Reparam = MissBone;
    fn create(&mut self, _path: &str, [_, d_out]: [usize; 2], device: &Device) -> MissBone {
        MissBone {
            b: Param::from_tensor(Tensor::zeros([self.r, d_out], device)),
        }
    }
}

struct MiniFactory {
    r: usize,
    mini_r: usize,
}

impl AdapterFactory for MiniFactory {
    type Reparam = MissMini;
    fn create(&mut self, _path: &str, _shape: [usize; 2], device: &Device) -> MissMini {
        MissMini {
            b: Param::from_tensor(Tensor::zeros([self.r, self.mini_r], device)),
        }
    }
}

struct BatFactory {
    r: usize,
}

impl AdapterFactory for BatFactory {
    type Reparam = MissBat;
    fn create(&mut self, _path: &str, [_, d_out]: [usize; 2], device: &Device) -> MissBat {
        MissBat {
            b: Param::from_tensor(Tensor::zeros([d_out / self.r, self.r, self.r], device)),
        }
    }
}

impl WeightSpace for MissConfig {
    const NAME: &'static str = "miss";
    fn targets(&mut self) -> (&mut TargetModules, &mut Option<TargetModules>) {
        (&mut self.target_modules, &mut self.exclude_modules)
    }
    fn attach_to<M: PlasticModel>(&self, model: M) -> Result<M, PeftError> {
        self.apply(model)
    }
    fn export_hf<M: Module>(&self, model: &M, dir: &Path, options: &HfOptions) -> Option<Result<(), PeftError>> {
        Some(crate::hf::export_miss_with(model, self, dir, options))
    }
}
