//! `[peft] method = "frozen"`: the pretrained model frozen whole, only its `modules_to_save`
//! trained (a linear probe: a frozen encoder with a trained classifier head). peft has no such
//! method; it is what a PyTorch user does with `requires_grad_(False)` on the base and a new head,
//! and the baseline every PEFT method is compared with.

use crate::method::{attach_saved, peft_error, write_adapter};
use plasticity_core::{ArtifactContext, AttachContext, Method, MethodModules, MethodResult, PlasticModel};
use serde::{Deserialize, Serialize};

const NAME: &str = "frozen";

/// No options: what trains is `modules_to_save`, which must name at least one module.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrozenConfig {}

/// The frozen model with its `modules_to_save`.
pub struct Frozen {
    saved: Vec<String>,
}

impl Frozen {
    pub fn new(saved: Vec<String>) -> Self {
        Self { saved }
    }
}

impl<M: PlasticModel> Method<M> for Frozen {
    fn name(&self) -> String {
        NAME.into()
    }

    fn attach(&mut self, model: M, _cx: &AttachContext) -> MethodResult<M> {
        if self.saved.is_empty() {
            return Err(peft_error(
                NAME,
                "modules_to_save is empty, so nothing would train; name the modules to train (the head: [\"classifier\"])",
            ));
        }
        attach_saved(model.no_grad(), NAME, &self.saved)
    }

    /// `adapter.bpk`: the `modules_to_save`, which with the pretrained checkpoint reproduce the model.
    fn artifacts(&self, model: &M, _modules: &MethodModules, cx: &ArtifactContext<M::Input>) -> MethodResult<Option<serde_json::Value>> {
        write_adapter(model, NAME, &self.saved, cx.dir)?;
        Ok(None)
    }
}
