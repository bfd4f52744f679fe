//! `MissConfig`: the user-facing MiSS/Bone configuration (peft.md §2.6,
//! `peft:src/peft/tuners/miss/config.py@HEAD`).

use crate::target::TargetModules;
use serde::{Deserialize, Serialize};

/// Which MiSS form to attach (peft's `init_weights`: `True` | `"bat"` | `"mini"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissVariant {
    /// Shared block, peft's default (`init_weights=True`): `B [r, d_out]`, peft.md §2.3.
    #[default]
    Bone,
    /// Block-affine transformation (the 2024 "Bone"): `B [d_out/r, r, r]`, peft.md §2.4.
    Bat,
    /// `B [r, mini_r]` tiled over the outputs, peft.md §2.5.
    Mini,
}

/// MiSS/Bone on the selected Linear weights. Every adapter starts at zero, so the adapted model
/// equals the base at step 0. There is no alpha/scaling and no dropout (peft's `miss_dropout`
/// defaults to 0.0 and is not offered here: the reparameterization sees weights, not inputs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MissConfig {
    /// Block size. Default 64, peft's `MissConfig.r` (its comment recommends an even value).
    #[serde(default = "default_r")]
    pub r: usize,
    /// Default `bone`, peft's `init_weights=True`.
    #[serde(default)]
    pub variant: MissVariant,
    /// Width of the `mini` block; `d_out % mini_r == 0` is required. Default 1, as in peft.
    #[serde(default = "default_mini_r")]
    pub mini_r: usize,
    /// Which modules to adapt (peft semantics, see [`TargetModules`]).
    pub target_modules: TargetModules,
    /// Modules never adapted; checked first.
    #[serde(default)]
    pub exclude_modules: Option<TargetModules>,
}

fn default_r() -> usize {
    64
}

fn default_mini_r() -> usize {
    1
}

impl MissConfig {
    /// A config with peft's defaults for the given targets.
    pub fn new(target_modules: TargetModules) -> Self {
        Self {
            r: default_r(),
            variant: MissVariant::Bone,
            mini_r: default_mini_r(),
            target_modules,
            exclude_modules: None,
        }
    }

    pub fn with_r(mut self, r: usize) -> Self {
        self.r = r;
        self
    }

    pub fn with_variant(mut self, variant: MissVariant) -> Self {
        self.variant = variant;
        self
    }

    pub fn with_mini_r(mut self, mini_r: usize) -> Self {
        self.mini_r = mini_r;
        self
    }

    pub fn with_exclude(mut self, exclude: TargetModules) -> Self {
        self.exclude_modules = Some(exclude);
        self
    }
}
