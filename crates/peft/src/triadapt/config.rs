//! `TriAdaptConfig` (peft.md §3.2–3.4, `TriAdaptLoraConfig` of the public TriAdaptLoRA source file).

use crate::target::TargetModules;
use serde::{Deserialize, Serialize};

/// The dynamic-threshold schedule of the rank allocator (peft.md §3.4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RankGrowth {
    /// `n = int((target − total) · m)`, the paper's best setting. Default.
    #[default]
    Linear,
    /// `n = int(exp(m · ln(target − total)))` = remaining^m (the code's `"non-linear"`).
    #[serde(alias = "non-linear", alias = "non_linear")]
    Exponential,
}

/// TriAdaptLoRA on the selected Linear weights.
///
/// Effective weight, Burn layout `[d_in, d_out]`: `W' = W + a · Cᵀ · b · scaling / (R + 1e-5)`,
/// the transpose of the source's `ΔW = B·C·A · scaling / (R + 1e-5)` (PyTorch layout), where
/// `a = Aᵀ` `[d_in, R]`, `b = Bᵀ` `[R, d_out]` and `C` `[R, R]` is assembled from the triangular
/// blocks (see [`TriAdapt`](super::TriAdapt)). `R` is the current rank of the layer.
///
/// Choices where the source is silent or broken (all documented in peft.md §3 as [proposal]):
/// * init: `A_t, B_t ~ N(0, init_std²)`, `C_row_t = C_col_t = 0`, so `ΔW = 0` while `∂L/∂C ≠ 0`
///   (the source's zeros for B and C give zero gradients everywhere);
/// * `scaling = alpha` when `alpha > 0`, else `init_rank` (AdaLoRA style, **not** `alpha / r`);
///   the effective factor `scaling / (R + 1e-5)` shrinks as the rank grows;
/// * growth adds new parameter blocks (new `ParamId`s, so a `ModuleOptimizer` gives them fresh
///   state); the source instead adds a new optimizer param group;
/// * the source's `weight_decay` (a param-group option) and the unused `top_k` are not offered:
///   configure weight decay on the optimizer. There is no dropout (a reparameterization sees the
///   weight, not the input).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriAdaptConfig {
    /// Target average rank per layer. Default 8 (source default).
    #[serde(default = "default_reference_rank")]
    pub reference_rank: usize,
    /// Rank every layer starts with. Default 1 (source default).
    #[serde(default = "default_init_rank")]
    pub init_rank: usize,
    /// Ranks added per growth event. `None` → `max(reference_rank / 2, 1)` (source table
    /// `{2:1, 4:2, …, 128:64}`).
    #[serde(default)]
    pub incre_rank_num: Option<usize>,
    /// No growth at steps `<= init_warmup`. Default 0.
    #[serde(default)]
    pub init_warmup: usize,
    /// Growth only at steps with `step % incre_interval == 0`. Default 1.
    #[serde(default = "default_incre_interval")]
    pub incre_interval: usize,
    /// Total training steps, needed by the schedule (`m = (step − warmup) / (total − warmup)`).
    /// Required before growing ([`RankAllocator::new`](super::RankAllocator::new) errors without it).
    #[serde(default)]
    pub total_step: Option<usize>,
    /// Default `linear`.
    #[serde(default)]
    pub rank_growth: RankGrowth,
    /// Total rank over all adapted layers at which growth stops. `None` → `reference_rank ×
    /// number of adapted layers`.
    #[serde(default)]
    pub target_total_rank: Option<usize>,
    /// Weight of [`orthogonality_penalty`](super::orthogonality_penalty) in the loss. Default 0.5.
    /// The caller adds `orth_reg_weight · penalty` to its loss.
    #[serde(default = "default_orth_reg_weight")]
    pub orth_reg_weight: f64,
    /// `lora_alpha`; default 8.0 (peft `LoraConfig.lora_alpha`). `<= 0` → `scaling = init_rank`.
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// Standard deviation of the normal init of new A and B blocks. Default 0.02 [proposal].
    #[serde(default = "default_init_std")]
    pub init_std: f64,
    /// Which modules to adapt (peft semantics, see [`TargetModules`]).
    pub target_modules: TargetModules,
    /// Modules never adapted; checked first.
    #[serde(default)]
    pub exclude_modules: Option<TargetModules>,
}

fn default_reference_rank() -> usize {
    8
}
fn default_init_rank() -> usize {
    1
}
fn default_incre_interval() -> usize {
    1
}
fn default_orth_reg_weight() -> f64 {
    0.5
}
fn default_alpha() -> f64 {
    8.0
}
fn default_init_std() -> f64 {
    0.02
}

impl TriAdaptConfig {
    /// A config with the defaults above for the given targets.
    pub fn new(target_modules: TargetModules) -> Self {
        Self {
            reference_rank: default_reference_rank(),
            init_rank: default_init_rank(),
            incre_rank_num: None,
            init_warmup: 0,
            incre_interval: default_incre_interval(),
            total_step: None,
            rank_growth: RankGrowth::Linear,
            target_total_rank: None,
            orth_reg_weight: default_orth_reg_weight(),
            alpha: default_alpha(),
            init_std: default_init_std(),
            target_modules,
            exclude_modules: None,
        }
    }

    pub fn with_reference_rank(mut self, reference_rank: usize) -> Self {
        self.reference_rank = reference_rank;
        self
    }

    pub fn with_init_rank(mut self, init_rank: usize) -> Self {
        self.init_rank = init_rank;
        self
    }

    pub fn with_incre_rank_num(mut self, incre_rank_num: usize) -> Self {
        self.incre_rank_num = Some(incre_rank_num);
        self
    }

    pub fn with_schedule(mut self, init_warmup: usize, incre_interval: usize, total: usize) -> Self {
        self.init_warmup = init_warmup;
        self.incre_interval = incre_interval;
        self.total_step = Some(total);
        self
    }

    pub fn with_rank_growth(mut self, rank_growth: RankGrowth) -> Self {
        self.rank_growth = rank_growth;
        self
    }

    pub fn with_target_total_rank(mut self, target_total_rank: usize) -> Self {
        self.target_total_rank = Some(target_total_rank);
        self
    }

    pub fn with_alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    pub fn with_exclude(mut self, exclude: TargetModules) -> Self {
        self.exclude_modules = Some(exclude);
        self
    }

    /// Ranks added per growth event: `incre_rank_num`, or `max(reference_rank / 2, 1)`.
    pub fn increment(&self) -> usize {
        self.incre_rank_num.unwrap_or((self.reference_rank / 2).max(1))
    }

    /// The numerator of the scale: `alpha` if `alpha > 0`, else `init_rank`.
    pub fn scaling(&self) -> f64 {
        if self.alpha > 0.0 {
            self.alpha
        } else {
            self.init_rank as f64
        }
    }
}
