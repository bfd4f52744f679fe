//! `Ia3Config` (peft.md §4.3, `peft:src/peft/tuners/ia3/config.py@v0.17.1`).

use crate::target::TargetModules;
use serde::{Deserialize, Serialize};

/// IA3 on the selected Linear weights: one learned scaling vector `l`, initialised to ones
/// (peft `init_ia3_weights=True`), so the model is unchanged at init.
///
/// Burn layout `[d_in, d_out]`:
/// * ordinary targets scale outputs: `W'[i, o] = W[i, o] · l[o]`, `l: [d_out]`;
/// * `feedforward_modules` scale inputs: `W'[i, o] = l[i] · W[i, o]` (`diag(l)·W`), `l: [d_in]`.
///
/// **Difference from peft:** for ordinary targets peft computes `(xW + b) ⊙ l`, scaling the bias
/// too (in its forward and its merge). This IA3 scales the weight only: `x(W ⊙ l) + b`. A bias
/// scaled by the same `l` would need one trainable tensor shared by two reparameterized params,
/// which does not train in Burn. The two agree whenever the bias is zero; a peft checkpoint's
/// `ia3_l` loads unchanged, but outputs differ by `b ⊙ (l − 1)`. Feed-forward targets match peft
/// exactly (peft does not scale the bias there either).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ia3Config {
    /// Which modules to adapt (peft semantics, see [`TargetModules`]).
    pub target_modules: TargetModules,
    /// Targets whose inputs are scaled; every pattern must select one of the targets
    /// (peft: "must be a subset of target_modules"). Default none.
    #[serde(default)]
    pub feedforward_modules: Option<TargetModules>,
    /// Modules never adapted; checked first.
    #[serde(default)]
    pub exclude_modules: Option<TargetModules>,
}

impl Ia3Config {
    pub fn new(target_modules: TargetModules) -> Self {
        Self {
            target_modules,
            feedforward_modules: None,
            exclude_modules: None,
        }
    }

    pub fn with_feedforward(mut self, feedforward: TargetModules) -> Self {
        self.feedforward_modules = Some(feedforward);
        self
    }

    pub fn with_exclude(mut self, exclude: TargetModules) -> Self {
        self.exclude_modules = Some(exclude);
        self
    }
}
