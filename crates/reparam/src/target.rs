//! Which weights `[reparam]` reparameterizes: peft's target selection (`target_modules`,
//! `exclude_modules`, checked before anything is attached), with its own default: every weight of
//! a Linear or a convolution, the output layer included, as weight normalization is usually
//! applied.

use crate::ReparamError;
use burn::module::Module;
use plasticity_core::{ParamInfo, param_infos};
use plasticity_peft::{PeftError, Selection, TargetModules, select_targets};

/// Container types whose `weight` `[reparam]` targets by default.
const DEFAULT_OWNERS: [&str; 4] = ["Struct:Linear", "Struct:Conv1d", "Struct:Conv2d", "Struct:Conv3d"];

/// Whether `param` is the weight of a Linear or a convolution.
pub fn is_layer_weight(param: &ParamInfo) -> bool {
    param.adapter.is_none() && param.path.ends_with("weight") && DEFAULT_OWNERS.contains(&param.owner.as_str())
}

/// The modules to reparameterize: `target_modules` (default: every Linear and convolution) minus
/// `exclude_modules`. A selected weight that already has a reparameterization (another table's)
/// is refused with an error naming the parameter and both tables.
pub fn select<M: Module>(
    model: &M,
    method: &'static str,
    target_modules: Option<&TargetModules>,
    exclude_modules: Option<&TargetModules>,
) -> Result<Selection, ReparamError> {
    let targets = match target_modules {
        Some(t) => t.clone(),
        None => {
            let layers: Vec<String> = param_infos(model)
                .iter()
                .filter(|p| is_layer_weight(p))
                .map(|p| p.module().to_string())
                .collect();
            if layers.is_empty() {
                return Err(ReparamError::Config {
                    key: "target_modules",
                    value: "(default)".into(),
                    reason: "the model has no Linear or convolution weight; name the modules to reparameterize".into(),
                });
            }
            TargetModules::Names(layers)
        }
    };
    select_targets(model, method, &targets, exclude_modules, false).map_err(|e| match e {
        PeftError::AlreadyReparameterized { param, existing, .. } => ReparamError::SameParameter {
            method,
            module: param.strip_suffix(".weight").unwrap_or(&param).to_string(),
            param,
            existing,
        },
        source => ReparamError::Target { method, source },
    })
}
