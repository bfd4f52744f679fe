//! Weight normalization as a [`Method`]: attached to the targeted weights, optionally initialized
//! from the first task's data, `g` kept out of weight decay and shown as its own census role,
//! exported with PyTorch's parametrization names.

use super::config::{NormOver, WeightNormConfig};
use super::export::export_weight_norm;
use super::init::data_dependent_init;
use super::reparam::{NormLayout, WeightNorm};
use crate::target::select;
use crate::{ReparamError, config::reparam_error};
use burn::module::{Param, ParamGroup, Reparameterization, Reparameterizer};
use burn::tensor::Tensor;
use plasticity_core::{
    AttachContext, Export, Method, MethodResult, ParamInfo, PlasticModel, TaskContext, TensorState, param_infos,
};
use std::collections::BTreeMap;
use std::path::Path;

const NAME: &str = "weight-norm";

/// File `plasticity export` writes: the model with PyTorch's weight-norm names.
pub const EXPORT_FILE: &str = "weight_norm.safetensors";

/// Attaches [`WeightNorm`] to the weights in `layouts` (by path) and makes them trainable: a
/// reparameterized weight trains even where another method froze the model.
struct AttachWeightNorm {
    group: ParamGroup,
    layouts: BTreeMap<String, NormLayout>,
}

impl Reparameterizer for AttachWeightNorm {
    type Reparam = WeightNorm;

    fn reparameterize<const D: usize>(&mut self, path: &str, param: Param<Tensor<D>>) -> (Param<Tensor<D>>, Option<WeightNorm>) {
        let Some(&layout) = self.layouts.get(path).filter(|_| self.group.matches(&param.id, Some(path))) else {
            return (param, None);
        };
        let param = param.set_require_grad(true);
        let reparam = WeightNorm::for_weight(param.base(), layout);
        (param, Some(reparam))
    }
}

/// The layout of a weight: a Linear's units are its columns, a convolution's its rows; other
/// weights by rank (2: columns, as Burn's `[d_in, d_out]`; more: rows, as `[c_out, …]`).
fn layout_of(param: &ParamInfo, norm: NormOver) -> NormLayout {
    match (norm, param.owner.as_str(), param.shape.len()) {
        (NormOver::Whole, _, _) => NormLayout::Whole,
        (_, "Struct:Linear", _) | (_, _, 2) => NormLayout::Columns,
        _ => NormLayout::Rows,
    }
}

/// Weight normalization with its config and what it attached.
pub struct WeightNormMethod {
    config: WeightNormConfig,
    /// Layout of each reparameterized weight, by path.
    layouts: BTreeMap<String, NormLayout>,
    /// The data-dependent init ran (it runs once, before the first task).
    initialized: bool,
}

impl WeightNormMethod {
    pub fn new(config: WeightNormConfig) -> Self {
        Self {
            config,
            layouts: BTreeMap::new(),
            initialized: false,
        }
    }
}

fn is_gain(param: &ParamInfo) -> bool {
    param.adapter.as_ref().is_some_and(|a| a.name == WeightNorm::NAME)
}

impl<M: PlasticModel> Method<M> for WeightNormMethod {
    fn name(&self) -> String {
        NAME.into()
    }

    fn restore(&mut self, state: TensorState) -> MethodResult<()> {
        self.initialized = state.meta.get("initialized").and_then(|v| v.as_bool()).unwrap_or(false);
        Ok(())
    }

    fn attach(&mut self, model: M, _cx: &AttachContext) -> MethodResult<M> {
        let c = &self.config;
        if c.data_init && c.norm == NormOver::Whole {
            return Err(reparam_error(ReparamError::Config {
                key: "data_init",
                value: "true".into(),
                reason: "the data-dependent init sets one gain per unit: it needs norm = \"output\"".into(),
            }));
        }
        if !(c.init_scale.is_finite() && c.init_scale > 0.0) {
            return Err(reparam_error(ReparamError::Config {
                key: "init_scale",
                value: c.init_scale.to_string(),
                reason: "must be > 0 (the standard deviation of the initialized pre-activations)".into(),
            }));
        }
        if c.init_batch == 0 {
            return Err(reparam_error(ReparamError::Config {
                key: "init_batch",
                value: "0".into(),
                reason: "must be ≥ 1 (examples in the data-dependent init's batch)".into(),
            }));
        }
        let selection =
            select(&model, NAME, c.target_modules.as_ref(), c.exclude_modules.as_ref()).map_err(reparam_error)?;
        let selected: Vec<String> = selection.modules.iter().map(|m| plasticity_peft::Selection::weight_path(m)).collect();
        self.layouts = param_infos(&model)
            .iter()
            .filter(|p| selected.contains(&p.path))
            .map(|p| (p.path.clone(), layout_of(p, c.norm)))
            .collect();
        Ok(model.apply_reparameterization(AttachWeightNorm {
            group: selection.group,
            layouts: self.layouts.clone(),
        }))
    }

    /// The data-dependent init on the first `init_batch` training examples, before the first
    /// task only (a resumed run skips it: its checkpoint holds the initialized model).
    fn task_start(&mut self, model: M, task: &TaskContext<M::Input>) -> MethodResult<M> {
        if !self.config.data_init || self.initialized {
            return Ok(model);
        }
        let n = self.config.init_batch.min(task.data.train.len());
        let indices: Vec<usize> = (0..n).collect();
        let input = task.data.train.batch(&indices, task.device).input;
        let modules: Vec<String> = self.layouts.keys().map(|p| p.strip_suffix(".weight").unwrap_or(p).to_string()).collect();
        let model =
            data_dependent_init(model, input, &modules, self.config.init_scale).map_err(reparam_error)?;
        self.initialized = true;
        tracing::info!("weight-norm: data-dependent init of {} layers on {n} examples", modules.len());
        Ok(model)
    }

    fn state(&self) -> TensorState {
        TensorState {
            meta: serde_json::json!({"initialized": self.initialized}),
            ..Default::default()
        }
    }

    fn export(&self, model: &M, out: &Path) -> MethodResult<plasticity_core::Export> {
        std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
        let file = out.join(EXPORT_FILE);
        export_weight_norm(model, &self.layouts, &file).map_err(|e| format!("reparam (weight-norm): {e}"))?;
        Ok(Export {
            written: vec![file],
            bake: self.layouts.keys().cloned().collect(),
        })
    }

    fn role(&self, param: &ParamInfo) -> Option<String> {
        is_gain(param).then(|| "weight-norm gain".into())
    }

    /// `g` is a scale, not a weight: no decay (as most recipes leave norm parameters).
    fn no_decay(&self, param: &ParamInfo) -> bool {
        is_gain(param)
    }
}
