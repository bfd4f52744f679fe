//! The `[peft]` table: which method adapts the model, attached before training (after
//! `init_from` loads the base run's weights, before a resumed checkpoint is loaded).

use crate::error::{Result, TrainError};
use burn::tensor::Device;
use plasticity_models::PlasticModel;
use plasticity_peft::triadapt::TriAdaptConfig;
use plasticity_peft::{GateSet, Ia3Config, LoraConfig, MissConfig, TargetModules, TauGateConfig};
use serde::{Deserialize, Serialize};

/// The `[peft]` table: the method with its options, and peft's `modules_to_save`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeftConfig {
    #[serde(flatten)]
    pub method: PeftMethod,
    /// Modules trained in full and saved with the adapter (a new classifier head, say), named as
    /// in `target_modules` lists: the module path or a `.`-suffix of it. Never adapter targets.
    /// See `plasticity_peft::saved`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modules_to_save: Vec<String>,
}

/// `[peft] method = "taugate" | "miss" | "lora" | "ia3"` plus that method's options.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "lowercase")]
pub enum PeftMethod {
    /// Per-neuron threshold and gain gates at the model's insertion points; the model is frozen.
    Taugate(TauGateConfig),
    Miss(MissConfig),
    Lora(LoraConfig),
    Ia3(Ia3Config),
    /// Triangular, rank-growing LoRA; `total_step` defaults to the run's optimizer steps.
    Triadapt(TriAdaptConfig),
}

impl PeftMethod {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Taugate(_) => "taugate",
            Self::Miss(_) => "miss",
            Self::Lora(_) => "lora",
            Self::Ia3(_) => "ia3",
            Self::Triadapt(_) => "triadapt",
        }
    }

    /// The method with `names` (saved modules) added to its `exclude_modules`.
    fn excluding(&self, names: &[String]) -> PeftMethod {
        let mut method = self.clone();
        let exclude: Option<&mut Option<TargetModules>> = match &mut method {
            Self::Taugate(_) => None,
            Self::Miss(c) => Some(&mut c.exclude_modules),
            Self::Lora(c) => Some(&mut c.exclude_modules),
            Self::Ia3(c) => Some(&mut c.exclude_modules),
            Self::Triadapt(c) => Some(&mut c.exclude_modules),
        };
        if let Some(exclude) = exclude {
            *exclude = plasticity_peft::saved::exclusion(exclude.as_ref(), names);
        }
        method
    }

    /// TauGate's config, when that is the method.
    pub fn taugate(&self) -> Option<&TauGateConfig> {
        match self {
            Self::Taugate(c) => Some(c),
            _ => None,
        }
    }
}

fn peft_error(method: &PeftMethod, e: impl std::fmt::Display) -> TrainError {
    TrainError::config(format!("peft ({})", method.name()), e.to_string())
}

/// Attaches the method to `model` (created on `device`), then unfreezes `modules_to_save`.
/// Weight-space methods freeze the base and reparameterize the targeted weights (saved modules
/// excluded); TauGate freezes the whole model and returns gates.
pub fn attach<M: PlasticModel>(model: M, peft: &PeftConfig, device: &Device) -> Result<(M, Option<GateSet>)> {
    attach_shaped(model, peft, None, device)
}

pub use plasticity_peft::triadapt::RankPattern;

/// [`attach`], with TriAdaptLoRA's adapters built to a grown `pattern` (from `rank_pattern.json`
/// or a checkpoint) so that a record of the grown model loads. Other methods ignore `pattern`.
pub fn attach_shaped<M: PlasticModel>(
    model: M,
    peft: &PeftConfig,
    pattern: Option<&RankPattern>,
    device: &Device,
) -> Result<(M, Option<GateSet>)> {
    let saved = &peft.modules_to_save;
    let method = peft.method.excluding(saved);
    let (model, gates) = match (&method, pattern) {
        (PeftMethod::Triadapt(c), Some(pattern)) => (
            c.apply_with_pattern(model, pattern)
                .map_err(|e| peft_error(&method, e))?,
            None,
        ),
        _ => attach_method(model, &method, device)?,
    };
    let model = plasticity_peft::unfreeze_saved(model, saved).map_err(|e| peft_error(&peft.method, e))?;
    Ok((model, gates))
}

fn attach_method<M: PlasticModel>(model: M, method: &PeftMethod, device: &Device) -> Result<(M, Option<GateSet>)> {
    match method {
        PeftMethod::Taugate(c) => {
            c.validate().map_err(|e| peft_error(method, e))?;
            if model.insertion_points().is_empty() {
                return Err(peft_error(
                    method,
                    "the model exposes no insertion points (PlasticModel::insertion_points)",
                ));
            }
            let gates = c.init_for(&model, device).map_err(|e| peft_error(method, e))?;
            Ok((model.no_grad(), Some(gates)))
        }
        PeftMethod::Miss(c) => Ok((c.apply(model).map_err(|e| peft_error(method, e))?, None)),
        // Dropout > 0 needs the adapted layers among the model's linear points; the runner then
        // trains through `LoraDropout`'s hook.
        PeftMethod::Lora(c) => Ok((c.apply_plastic(model).map_err(|e| peft_error(method, e))?.0, None)),
        PeftMethod::Ia3(c) => Ok((c.apply(model).map_err(|e| peft_error(method, e))?, None)),
        PeftMethod::Triadapt(c) => Ok((c.apply(model).map_err(|e| peft_error(method, e))?, None)),
    }
}

/// TriAdaptLoRA's training-time parts: the orthogonality regulariser added to the loss and
/// rank growth after optimizer steps (peft.md §3.2–3.4).
pub mod triadapt {
    use super::RankPattern;
    use crate::extension::{Extensions, Penalty, StepRule};
    use burn::module::Module;
    use burn::tensor::Tensor;
    use plasticity_peft::triadapt::{RankAllocator, TriAdaptConfig, orthogonality_penalty, rank_pattern};
    use serde::{Deserialize, Serialize};
    use std::sync::{Arc, Mutex};

    /// `orth_reg_weight · mean(‖AAᵀ − I‖_F, ‖BᵀB − I‖_F)` over the adapted layers.
    pub struct Orthogonality(pub f64);

    impl<M: Module> Penalty<M> for Orthogonality {
        fn name(&self) -> &str {
            "triadapt-orthogonality"
        }
        fn penalty(&self, model: &M) -> Tensor<1> {
            match orthogonality_penalty(model) {
                Some(p) => p.mul_scalar(self.0),
                None => Tensor::zeros([1], &model.devices()[0]),
            }
        }
    }

    /// The name of the growth rule, which keys its state in `rules-<epoch>.json`.
    pub const GROWTH: &str = "triadapt-growth";

    /// What a checkpoint keeps of the growth rule: the allocator (previous scores, total rank)
    /// and the grown rank pattern, which a resumed run rebuilds before loading the model.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct GrowthState {
        pub allocator: RankAllocator,
        pub rank_pattern: RankPattern,
    }

    /// Grows ranks at allocation steps (the allocator keeps the previous scores).
    pub struct Growth(pub Mutex<GrowthState>);

    impl<M: Module> StepRule<M> for Growth {
        fn name(&self) -> &str {
            GROWTH
        }
        fn after_step(&self, model: M, step: u64) -> M {
            let Ok(mut state) = self.0.lock() else { return model };
            // Steps are 1-based in the source's `update_and_increase(global_step)`.
            let (model, grown) = state.allocator.grow(model, step as usize + 1);
            if !grown.is_empty() {
                state.rank_pattern = rank_pattern(&model);
                tracing::info!("TriAdaptLoRA step {}: rank grew in {}", step + 1, grown.join(", "));
            }
            model
        }
        fn state(&self) -> Option<serde_json::Value> {
            let state = self.0.lock().ok()?;
            serde_json::to_value(&*state).ok()
        }
        fn restore(&self, saved: &serde_json::Value) -> Result<(), String> {
            let saved: GrowthState = serde_json::from_value(saved.clone()).map_err(|e| e.to_string())?;
            let mut state = self.0.lock().map_err(|e| e.to_string())?;
            *state = saved;
            Ok(())
        }
    }

    /// The rank pattern saved with a checkpoint's rule states (`rules-<epoch>.json`).
    pub fn saved_pattern(states: &serde_json::Map<String, serde_json::Value>) -> Option<RankPattern> {
        let state: GrowthState = serde_json::from_value(states.get(GROWTH)?.clone()).ok()?;
        Some(state.rank_pattern)
    }

    /// The penalty and the growth rule for a model already adapted with `config`.
    pub fn extensions<M: Module>(config: &TriAdaptConfig, model: &M) -> crate::Result<Extensions<M>> {
        let allocator = RankAllocator::new(config, model)
            .map_err(|e| crate::TrainError::config("peft (triadapt)", e.to_string()))?;
        let state = GrowthState {
            allocator,
            rank_pattern: rank_pattern(model),
        };
        Ok(Extensions {
            penalties: vec![Arc::new(Orthogonality(config.orth_reg_weight))],
            rules: vec![Arc::new(Growth(Mutex::new(state)))],
            optimizer: None,
        })
    }
}
