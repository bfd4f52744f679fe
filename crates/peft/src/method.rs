//! What every PEFT method does the same way as a [`plasticity_core::Method`]: error
//! messages that name the method, `modules_to_save` unfrozen after attaching, and the
//! adapter-only file `adapter.bpk` (a base checkpoint plus this file reproduce the model).

use crate::target::{TargetModules, resolve_external};
use crate::{HfOptions, PeftError};
use burn::module::{Module, ParamGroup};
use plasticity_core::files::write_verified;
use plasticity_core::{
    ArtifactContext, AttachContext, Export, Forward, Hook, Method, MethodError, MethodModules, MethodResult, Mode,
    PlasticModel, param_infos, reparameterized,
};
use std::path::Path;

/// The file of adapter parameters (and those of `modules_to_save`) a weight-space run writes.
pub const ADAPTER_FILE: &str = "adapter.bpk";

/// A [`MethodError`] saying which `[peft]` method failed.
pub fn peft_error(method: &str, e: impl std::fmt::Display) -> MethodError {
    MethodError(format!("peft ({method}): {e}"))
}

/// Makes the `modules_to_save` trainable after a method froze the model.
pub fn attach_saved<M: Module>(model: M, method: &str, saved: &[String]) -> MethodResult<M> {
    crate::unfreeze_saved(model, saved).map_err(|e| peft_error(method, e))
}

/// Writes `dir/adapter.bpk`: the parameters of the method's own reparameterizations (named
/// `method`: those of another table, such as `[reparam]`'s weight norm, are not the adapter),
/// and those of `modules_to_save`, with a checksum.
pub fn write_adapter<M: Module>(model: &M, method: &str, saved: &[String], dir: &Path) -> MethodResult<()> {
    let saved = crate::saved_params(model, saved).map_err(|e| peft_error(method, e))?;
    let own = crate::adapter_params(model)
        .into_iter()
        .filter(|p| p.adapter.as_ref().is_some_and(|a| a.name == method));
    let ids = own.map(|p| p.id).chain(saved.into_iter().map(|p| p.id));
    write_group(model, ParamGroup::from_ids(ids.collect()), &dir.join(ADAPTER_FILE))
}

/// Writes the parameters of `group` as a burnpack record to `path`, with a checksum.
pub fn write_group<M: Module>(model: &M, group: ParamGroup, path: &Path) -> MethodResult<()> {
    let bytes = model
        .clone()
        .into_record_group(group)
        .into_bytes()
        .map_err(|e| MethodError(format!("{}: {e}", path.display())))?;
    write_verified(path, &bytes).map_err(|e| MethodError(e.to_string()))
}

/// Every module with a base `weight` as `(our path, the model's external name)`
/// ([`PlasticModel::external_name`]: Hugging Face's for a pretrained BERT, ours otherwise).
pub fn external_modules<M: PlasticModel>(model: &M) -> Vec<(String, String)> {
    param_infos(model)
        .into_iter()
        .filter(|p| p.adapter.is_none() && p.method.is_none())
        .filter_map(|p| {
            let module = p.path.strip_suffix(".weight")?.to_string();
            let external = model.external_name(&p.path).strip_suffix(".weight")?.to_string();
            Some((module, external))
        })
        .collect()
}

impl From<PeftError> for MethodError {
    fn from(e: PeftError) -> Self {
        MethodError(e.to_string())
    }
}

/// A weight-space PEFT method (LoRA, MiSS, IA3): reparameterizes the targeted weights of a
/// frozen model. Each method's config implements it in its folder.
pub trait WeightSpace: Clone + Send + 'static {
    /// The method's name in `[peft] method = …`.
    const NAME: &'static str;
    /// The config's `target_modules` and `exclude_modules` (which `modules_to_save` extend).
    fn targets(&mut self) -> (&mut TargetModules, &mut Option<TargetModules>);
    /// Freezes `model` and attaches the adapters (every check first).
    fn attach_to<M: PlasticModel>(&self, model: M) -> Result<M, PeftError>;
    /// Writes the adapter in Hugging Face peft format into `dir`; `None` when peft cannot load
    /// this method from our files (the export then writes the merged base instead).
    fn export_hf<M: Module>(&self, _model: &M, _dir: &Path, _options: &HfOptions) -> Option<Result<(), PeftError>> {
        None
    }
    /// A hook for the forward passes of `mode` (activation-space LoRA and its dropout).
    fn hook<M: PlasticModel>(&self, _model: &M, _mode: Mode) -> Option<Box<dyn Hook>> {
        None
    }
}

/// A [`WeightSpace`] config with its `modules_to_save`, as a [`Method`].
pub struct Adapter<C> {
    config: C,
    saved: Vec<String>,
}

impl<C: WeightSpace> Adapter<C> {
    pub fn new(config: C, saved: Vec<String>) -> Self {
        Self { config, saved }
    }
}

impl<M: PlasticModel, C: WeightSpace> Method<M> for Adapter<C> {
    fn name(&self) -> String {
        C::NAME.into()
    }

    fn attach(&mut self, model: M, _cx: &AttachContext) -> MethodResult<M> {
        let mut config = self.config.clone();
        let (targets, exclude) = config.targets();
        *exclude = crate::saved::exclusion(exclude.as_ref(), &self.saved);
        // Patterns may name a pretrained model's modules as its checkpoint does.
        let modules = external_modules(&model);
        if modules.iter().any(|(ours, external)| ours != external) {
            *targets = resolve_external(targets, &modules, C::NAME, true).map_err(|e| peft_error(C::NAME, e))?;
            if let Some(exclude) = exclude.as_mut() {
                *exclude = resolve_external(exclude, &modules, C::NAME, false).map_err(|e| peft_error(C::NAME, e))?;
            }
        }
        let model = config.attach_to(model).map_err(|e| peft_error(C::NAME, e))?;
        attach_saved(model, C::NAME, &self.saved)
    }

    fn hooks(&self, model: &M, _modules: &MethodModules, forward: Forward) -> Vec<Box<dyn Hook>> {
        self.config.hook(model, forward.mode).into_iter().collect()
    }

    fn artifacts(&self, model: &M, _modules: &MethodModules, cx: &ArtifactContext<M::Input>) -> MethodResult<Option<serde_json::Value>> {
        write_adapter(model, C::NAME, &self.saved, cx.dir)?;
        Ok(None)
    }

    fn export(&self, model: &M, out: &Path) -> MethodResult<Export> {
        let dir = out.join("adapter");
        // Modules under the model's original names (Hugging Face's for a pretrained BERT), so
        // that peft finds them in the original model.
        let names = external_modules(model)
            .into_iter()
            .filter(|(module, external)| module != external)
            .collect();
        let options = HfOptions {
            names,
            modules_to_save: self.saved.clone(),
            ..Default::default()
        };
        match self.config.export_hf(model, &dir, &options) {
            Some(result) => {
                result.map_err(|e| peft_error(C::NAME, e))?;
                Ok(Export {
                    written: vec![dir],
                    bake: Vec::new(),
                })
            }
            None => Ok(Export {
                written: Vec::new(),
                bake: reparameterized(model, C::NAME),
            }),
        }
    }
}
