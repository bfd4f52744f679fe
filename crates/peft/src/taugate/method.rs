//! TauGate as a [`Method`]: the model is frozen, the gates are the method's trainable module
//! (`modules.taugate.gates.<i>.{threshold,gain}`, saved as `gates.bpk`), and they act through
//! a hook at every insertion point. The sharpness follows its annealing schedule by step.

use super::{GateSet, TauGateConfig, report};
use crate::method::{attach_saved, peft_error, write_group};
use burn::module::{Module, ParamGroup};
use burn::tensor::Device;
use plasticity_core::{
    ArtifactContext, AttachContext, DynModule, Forward, Hook, Method, MethodModules, MethodResult, PlasticModel,
    StepContext, TensorState,
};

const NAME: &str = "taugate";

/// The gates' file in a finished run directory.
pub const GATES_FILE: &str = "gates.bpk";
/// The `modules_to_save` of a TauGate run (the model itself is saved whole in `model.bpk`).
pub const SAVED_FILE: &str = "saved.bpk";

/// TauGate with its `modules_to_save`.
pub struct TauGate {
    config: TauGateConfig,
    saved: Vec<String>,
    /// Steps of the run, for the annealing schedule.
    total_steps: usize,
    /// Steps taken: a finished run evaluates with the sharpness it ended with.
    steps: u64,
}

impl TauGate {
    pub fn new(config: TauGateConfig, saved: Vec<String>) -> Self {
        Self {
            config,
            saved,
            total_steps: 0,
            steps: 0,
        }
    }

    fn sharpness(&self, step: u64) -> f64 {
        self.config.sharpness_at(step.max(self.steps) as usize, self.total_steps)
    }
}

impl<M: PlasticModel> Method<M> for TauGate {
    fn name(&self) -> String {
        NAME.into()
    }

    fn module_file(&self) -> String {
        GATES_FILE.into()
    }

    fn restore(&mut self, state: TensorState) -> MethodResult<()> {
        let read = |key: &str| state.meta.get(key).and_then(|v| v.as_u64());
        self.steps = read("steps").unwrap_or(0);
        if let Some(total) = read("total_steps") {
            self.total_steps = total as usize;
        }
        Ok(())
    }

    fn attach(&mut self, model: M, cx: &AttachContext) -> MethodResult<M> {
        self.config.validate().map_err(|e| peft_error(NAME, e))?;
        if model.insertion_points().is_empty() {
            return Err(peft_error(
                NAME,
                "the model exposes no insertion points (PlasticModel::insertion_points)",
            ));
        }
        if cx.total_steps > 0 {
            self.total_steps = cx.total_steps;
        }
        attach_saved(model.no_grad(), NAME, &self.saved)
    }

    fn module(&mut self, model: &M, device: &Device) -> MethodResult<Option<Box<dyn DynModule>>> {
        let gates = self.config.init_for(model, device).map_err(|e| peft_error(NAME, e))?;
        Ok(Some(Box::new(gates)))
    }

    fn hooks(&self, _model: &M, modules: &MethodModules, forward: Forward) -> Vec<Box<dyn Hook>> {
        match modules.get_as::<GateSet>(NAME) {
            Some(gates) => vec![Box::new(gates.clone().with_sharpness(self.sharpness(forward.step)))],
            None => Vec::new(),
        }
    }

    fn after_step(&mut self, model: M, _modules: &mut MethodModules, cx: &mut StepContext) -> MethodResult<M> {
        self.steps = cx.step + 1;
        Ok(model)
    }

    fn state(&self) -> TensorState {
        TensorState {
            meta: serde_json::json!({"steps": self.steps, "total_steps": self.total_steps}),
            ..Default::default()
        }
    }

    /// `saved.bpk` (the `modules_to_save`), and with a test set the report: `taugate.json` and
    /// one heatmap per gated layer, also returned as the `taugate` section of results.json.
    fn artifacts(&self, model: &M, modules: &MethodModules, cx: &ArtifactContext<M::Input>) -> MethodResult<Option<serde_json::Value>> {
        let saved = crate::saved_params(model, &self.saved).map_err(|e| peft_error(NAME, e))?;
        if !saved.is_empty() {
            let group = ParamGroup::from_ids(saved.iter().map(|p| p.id).collect());
            write_group(model, group, &cx.dir.join(SAVED_FILE))?;
        }
        let (Some(gates), Some(test)) = (modules.get_as::<GateSet>(NAME), cx.test) else {
            return Ok(None);
        };
        let gates = gates.valid().with_sharpness(self.sharpness(cx.steps));
        let report = report::report(cx.dir, model, &gates, test.as_ref(), cx.device, cx.eval_batch_size)?;
        Ok(Some(serde_json::to_value(report).map_err(|e| peft_error(NAME, e))?))
    }
}
