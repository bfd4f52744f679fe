//! `LoraConfig` (peft.md §4.1, `peft:src/peft/tuners/lora/config.py@v0.17.1`).

use crate::target::TargetModules;
use serde::{Deserialize, Serialize};

/// How the down-projection A is initialised; B is always zero, so the model is unchanged at init.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoraInit {
    /// peft's default (`init_lora_weights=True`): `kaiming_uniform_(a=√5)` on A `[r, in]`, i.e.
    /// A ~ U(−1/√d_in, 1/√d_in).
    #[default]
    Peft,
    /// peft's `"gaussian"`: A ~ N(0, (1/r)²).
    Gaussian,
    /// Burn's built-in `Lora` init: A ~ N(0, (1/r)²), the same distribution as `gaussian`.
    Burn,
}

/// LoRA on the selected Linear weights: `W' = W + scale · A·B` in Burn layout, with
/// `A: [d_in, r]`, `B: [r, d_out]` (peft's `lora_A.weight`ᵀ and `lora_B.weight`ᵀ), and
/// `scale = alpha / r` (or `alpha / √r` with `use_rslora`).
///
/// Implementation: the adapter is Burn's own [`burn::module::LoraAdapter`] (`NAME = "lora"`, paths
/// `<module>.weight.lora.a` / `.b`, `Param::adapter()` and `materialize()` work). Burn's `Lora`
/// reparameterizer can only draw A from a normal distribution and always uses `alpha / r`, so
/// `apply` calls Burn's `apply_lora` for `gaussian`/`burn` init without rsLoRA, and otherwise
/// attaches `LoraAdapter`s built by this crate (peft's uniform A, or the rsLoRA scale). Setting A
/// after Burn attached it would need a `ModuleMapper`; building the adapter directly is simpler.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoraConfig {
    /// Rank. Default 8 (peft `LoraConfig.r`).
    #[serde(default = "default_r")]
    pub r: usize,
    /// Scaling numerator. Default 8 (peft `lora_alpha`).
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// `scale = alpha / √r` instead of `alpha / r`. Default false (peft).
    #[serde(default)]
    pub use_rslora: bool,
    /// Default `peft`.
    #[serde(default)]
    pub init: LoraInit,
    /// peft's `lora_dropout`, in `[0, 1)`; default 0.0. peft drops the LoRA branch's *input*; a
    /// Burn reparameterization only sees the weight, so dropout > 0 works only on a
    /// [`PlasticModel`](plasticity_models::PlasticModel) whose linear points include every adapted
    /// layer ([`LoraConfig::apply_plastic`], [`LoraDropout`](super::LoraDropout)); with plain
    /// target patterns (`apply`) it is an error.
    #[serde(default)]
    pub dropout: f64,
    /// Compute adapted layers that are a model's linear points as `x·W + b + s·(x·A)·B`
    /// ([`ActivationLora`](super::ActivationLora), peft's form: no weight-shaped gradient) instead
    /// of `x·(W + s·A·B) + b` (Burn's materialized weight). Default true; same function, same
    /// files. `false` is kept for comparison; training forwards with `dropout > 0` always use the
    /// activation-space form.
    #[serde(default = "default_true")]
    pub activation_space: bool,
    /// Which modules to adapt (peft semantics, see [`TargetModules`]).
    pub target_modules: TargetModules,
    /// Modules never adapted; checked first.
    #[serde(default)]
    pub exclude_modules: Option<TargetModules>,
}

fn default_true() -> bool {
    true
}

fn default_r() -> usize {
    8
}

fn default_alpha() -> f64 {
    8.0
}

impl LoraConfig {
    /// A config with peft's defaults for the given targets.
    pub fn new(target_modules: TargetModules) -> Self {
        Self {
            r: default_r(),
            alpha: default_alpha(),
            use_rslora: false,
            init: LoraInit::Peft,
            dropout: 0.0,
            activation_space: true,
            target_modules,
            exclude_modules: None,
        }
    }

    pub fn with_r(mut self, r: usize) -> Self {
        self.r = r;
        self
    }

    pub fn with_alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    pub fn with_rslora(mut self, use_rslora: bool) -> Self {
        self.use_rslora = use_rslora;
        self
    }

    pub fn with_init(mut self, init: LoraInit) -> Self {
        self.init = init;
        self
    }

    pub fn with_exclude(mut self, exclude: TargetModules) -> Self {
        self.exclude_modules = Some(exclude);
        self
    }

    /// `alpha / r`, or `alpha / √r` with rsLoRA (peft `LoraLayer.update_layer`).
    pub fn scale(&self) -> f64 {
        if self.use_rslora {
            self.alpha / (self.r as f64).sqrt()
        } else {
            self.alpha / self.r as f64
        }
    }
}
