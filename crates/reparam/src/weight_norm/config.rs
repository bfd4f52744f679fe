//! `[reparam] method = "weight-norm"` (reparam-prune.md §2; PyTorch's
//! `torch.nn.utils.parametrizations.weight_norm`).

use plasticity_peft::TargetModules;
use serde::{Deserialize, Serialize};

/// Over what `‖v‖` is taken.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NormOver {
    /// One `g` per output unit: a Linear's column of Burn's `[d_in, d_out]` (norm over dim 0),
    /// a convolution's output channel (norm over `[c_in, k_h, k_w]`). PyTorch's `dim=0`.
    #[default]
    Output,
    /// One `g` for the whole tensor: PyTorch's `dim=None`.
    Whole,
}

/// Weight normalization `w = g · v / ‖v‖` on the targeted weights; `g` and `v` both train.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightNormConfig {
    /// Modules whose weight is reparameterized (peft's rules: a regex or a list of names).
    /// Default: every Linear and convolution weight, the output layer included.
    #[serde(default)]
    pub target_modules: Option<TargetModules>,
    /// Modules never reparameterized; checked first.
    #[serde(default)]
    pub exclude_modules: Option<TargetModules>,
    /// `"output"` (default, PyTorch's `dim=0`) or `"whole"` (PyTorch's `dim=None`).
    #[serde(default)]
    pub norm: NormOver,
    /// Data-dependent init (Salimans & Kingma 2016, §3): before training, one batch is fed layer
    /// by layer and each layer's `g` and bias are set so that its pre-activations have mean 0
    /// and standard deviation `init_scale`. Default false. Skipped when a run resumes.
    #[serde(default)]
    pub data_init: bool,
    /// Target standard deviation of the pre-activations after the data-dependent init. Default
    /// 1.0 (openai/weightnorm's `init_scale`).
    #[serde(default = "one")]
    pub init_scale: f64,
    /// Examples in the data-dependent init's batch: the first ones of the training set. Default
    /// 500.
    #[serde(default = "init_batch")]
    pub init_batch: usize,
}

fn one() -> f64 {
    1.0
}
fn init_batch() -> usize {
    500
}

impl Default for WeightNormConfig {
    fn default() -> Self {
        Self {
            target_modules: None,
            exclude_modules: None,
            norm: NormOver::Output,
            data_init: false,
            init_scale: 1.0,
            init_batch: 500,
        }
    }
}
