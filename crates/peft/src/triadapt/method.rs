//! TriAdaptLoRA as a [`Method`]: the orthogonality regulariser added to the loss and rank
//! growth after optimizer steps (peft.md §3.2–3.4), with the allocator and the grown rank
//! pattern as state that every checkpoint carries.

use super::{RankAllocator, RankPattern, TriAdapt, TriAdaptConfig, orthogonality_penalty, rank_pattern};
use burn::module::Reparameterization;
use crate::method::{attach_saved, peft_error, write_adapter};
use plasticity_core::files::{read_verified, write_verified};
use plasticity_core::{
    ArtifactContext, AttachContext, Export, Method, MethodModules, MethodResult, PlasticModel, StepContext,
    TensorState, reparameterized,
};
use serde::{Deserialize, Serialize};
use std::path::Path;

const NAME: &str = "triadapt";

/// The grown ranks, written beside the adapters; `plasticity eval`/`merge` of runs written
/// before method state was saved rebuild these shapes from it.
pub const RANK_PATTERN_FILE: &str = "rank_pattern.json";

/// What a checkpoint keeps of the method: the allocator (previous scores, total rank) and the
/// grown rank pattern, which a resumed run rebuilds before loading the model.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GrowthState {
    pub allocator: Option<RankAllocator>,
    pub rank_pattern: RankPattern,
}

/// TriAdaptLoRA with its `modules_to_save`.
pub struct TriAdaptMethod {
    config: TriAdaptConfig,
    saved: Vec<String>,
    growth: Option<GrowthState>,
}

impl TriAdaptMethod {
    pub fn new(config: TriAdaptConfig, saved: Vec<String>) -> Self {
        Self {
            config,
            saved,
            growth: None,
        }
    }

    /// The pattern of a finished run written before its method state was saved.
    fn legacy_pattern(dir: &Path) -> MethodResult<Option<RankPattern>> {
        let path = dir.join(RANK_PATTERN_FILE);
        if !path.exists() {
            return Ok(None);
        }
        let bytes = read_verified(&path).map_err(|e| peft_error(NAME, e))?;
        let pattern = serde_json::from_slice(&bytes).map_err(|e| peft_error(NAME, format!("{}: {e}", path.display())))?;
        Ok(Some(pattern))
    }
}

impl<M: PlasticModel> Method<M> for TriAdaptMethod {
    fn name(&self) -> String {
        NAME.into()
    }

    fn restore(&mut self, state: TensorState) -> MethodResult<()> {
        if !state.meta.is_null() {
            let growth = serde_json::from_value(state.meta).map_err(|e| peft_error(NAME, format!("saved state: {e}")))?;
            self.growth = Some(growth);
        }
        Ok(())
    }

    fn attach(&mut self, model: M, cx: &AttachContext) -> MethodResult<M> {
        let config = &mut self.config;
        config.total_step.get_or_insert(cx.total_steps);
        config.exclude_modules = crate::saved::exclusion(config.exclude_modules.as_ref(), &self.saved);
        let pattern = match (&self.growth, cx.run_dir) {
            (Some(growth), _) => Some(growth.rank_pattern.clone()),
            (None, Some(dir)) => Self::legacy_pattern(dir)?,
            (None, None) => None,
        };
        let model = match &pattern {
            Some(pattern) => config.apply_with_pattern(model, pattern),
            None => config.apply(model),
        }
        .map_err(|e| peft_error(NAME, e))?;
        if self.growth.is_none() && cx.total_steps > 0 {
            let allocator = RankAllocator::new(config, &model).map_err(|e| peft_error(NAME, e))?;
            self.growth = Some(GrowthState {
                allocator: Some(allocator),
                rank_pattern: rank_pattern(&model),
            });
        }
        attach_saved(model, NAME, &self.saved)
    }

    /// `orth_reg_weight · mean(‖AAᵀ − I‖_F, ‖BᵀB − I‖_F)` over the adapted layers.
    fn penalty(&self, model: &M, _modules: &MethodModules) -> Option<burn::tensor::Tensor<1>> {
        orthogonality_penalty(model).map(|p| p.mul_scalar(self.config.orth_reg_weight))
    }

    /// Grows ranks at allocation steps (the allocator keeps the previous scores).
    fn after_step(&mut self, model: M, _modules: &mut MethodModules, cx: &mut StepContext) -> MethodResult<M> {
        let Some(GrowthState {
            allocator: Some(allocator),
            rank_pattern: pattern,
        }) = &mut self.growth
        else {
            return Ok(model);
        };
        // Steps are 1-based in the source's `update_and_increase(global_step)`.
        let (model, grown) = allocator.grow(model, cx.step as usize + 1);
        if !grown.is_empty() {
            *pattern = rank_pattern(&model);
            tracing::info!("TriAdaptLoRA step {}: rank grew in {}", cx.step + 1, grown.join(", "));
        }
        Ok(model)
    }

    fn state(&self) -> TensorState {
        TensorState {
            meta: serde_json::to_value(&self.growth).unwrap_or_default(),
            ..Default::default()
        }
    }

    fn artifacts(&self, model: &M, _modules: &MethodModules, cx: &ArtifactContext<M::Input>) -> MethodResult<Option<serde_json::Value>> {
        let path = cx.dir.join(RANK_PATTERN_FILE);
        let json = serde_json::to_vec_pretty(&rank_pattern(model)).map_err(|e| peft_error(NAME, e))?;
        write_verified(&path, &json).map_err(|e| peft_error(NAME, e))?;
        write_adapter(model, NAME, &self.saved, cx.dir)?;
        Ok(None)
    }

    /// peft has no TriAdaptLoRA: the export writes the merged base.
    fn export(&self, model: &M, _out: &Path) -> MethodResult<Export> {
        Ok(Export {
            written: Vec::new(),
            bake: reparameterized(model, <TriAdapt as Reparameterization>::NAME),
        })
    }
}
