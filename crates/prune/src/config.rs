//! `[prune]`: which method, which weights, the schedule in optimizer steps, regeneration.
//! Defaults and their sources are in docs/pruning.md (spec reparam-prune.md §4-5).

use plasticity_peft::TargetModules;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PruneKind {
    /// Gradual magnitude pruning (global by default), no regeneration (GraNet's `GMP`).
    Gmp,
    /// GMP plus zero-cost neuroregeneration at every event, continuing after `end` (GraNet).
    Granet,
    /// RigL: constant sparsity, drop by magnitude and grow by gradient every `frequency` steps
    /// until `rigl_end` of training, no weight update on a mask step (google-research/rigl).
    Rigl,
    /// One-shot magnitude pruning to `final_sparsity` before the first step, on the weights the
    /// run starts from (`init_from`: a trained model), torch.prune's `amount` semantics; then
    /// the mask stays fixed (fine-tuning).
    Magnitude,
    /// SNIP at the start: `|g ⊙ w|` on `score_batches` training batches, global; mask fixed.
    Snip,
    /// SynFlow at the start: data-free, `iterations` rounds to the exponential schedule; mask
    /// fixed.
    Synflow,
    /// Signed supermask: the weights stay as initialized, a trained score per weight picks
    /// +w, 0 or −w (straight-through estimator); `final_sparsity` of each layer is 0.
    Supermask,
    /// HideNseek: a SynFlow mask at initialization (data-free, `iterations` rounds, global),
    /// then only the signs of the kept weights are learned (a sign supermask on a fixed support).
    Hidenseek,
}

impl PruneKind {
    /// Whether the mask is chosen once, before the first step, and then kept.
    pub fn one_shot(self) -> bool {
        matches!(self, Self::Magnitude | Self::Snip | Self::Synflow)
    }
}

/// Global magnitude over every pruned weight (GraNet's `GMP`, `GraNet`) or per layer
/// (`GMP_uniform`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    #[default]
    Global,
    Layer,
}

/// How a sparse start (`init_sparsity > 0`, or RigL) distributes its density over layers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Distribution {
    /// Erdős–Rényi-Kernel (GraNet's and RigL's default).
    #[default]
    Erk,
    /// Every layer at the same density.
    Uniform,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PruneConfig {
    pub method: PruneKind,
    /// Modules whose weight is pruned (peft's syntax). Default: every Linear and Conv2d weight,
    /// the first and last layers included (GraNet: every 2-D and 4-D parameter).
    #[serde(default)]
    pub target_modules: Option<TargetModules>,
    #[serde(default)]
    pub exclude_modules: Option<TargetModules>,
    /// Keep the first / last targeted layer dense.
    #[serde(default)]
    pub dense_first: bool,
    #[serde(default)]
    pub dense_last: bool,
    /// sᵢ: 0 is dense-to-sparse; above 0 starts from a random mask (`distribution`).
    #[serde(default)]
    pub init_sparsity: f64,
    /// s_f (RigL: its constant sparsity).
    pub final_sparsity: f64,
    /// t₀, in optimizer steps. Default 0 (GraNet's scripts).
    #[serde(default)]
    pub start: u64,
    /// t_f, in optimizer steps. Default: half the run's steps (GraNet's CIFAR script prunes
    /// until epoch 80 of 160).
    #[serde(default)]
    pub end: Option<u64>,
    /// ΔT, in optimizer steps. Default 1000 (GraNet's CIFAR scripts); RigL 100 (its paper).
    #[serde(default)]
    pub frequency: Option<u64>,
    #[serde(default)]
    pub scope: Scope,
    /// GraNet's r₀, the regeneration fraction before its cosine decay (to 0.005). Default 0.5.
    #[serde(default = "half")]
    pub regeneration: f64,
    /// RigL's drop fraction α before its cosine decay (to 0). Default 0.3.
    #[serde(default = "drop_fraction")]
    pub drop_fraction: f64,
    /// RigL updates masks until this fraction of the run's steps. Default 0.75.
    #[serde(default = "three_quarters")]
    pub rigl_end: f64,
    #[serde(default)]
    pub distribution: Distribution,
    /// SynFlow's pruning iterations E. Default 100 (the paper; the repo's default is 1).
    #[serde(default = "hundred")]
    pub iterations: usize,
    /// SNIP's scoring batches (of the run's batch size). Default 1 (the paper).
    #[serde(default = "one")]
    pub score_batches: usize,
    /// Evaluation computes pruned Linear layers with the sparse CPU kernel: `auto` where a
    /// layer's sparsity is at least [`AUTO_SPARSE_KERNEL`], `always`, or `never`.
    #[serde(default)]
    pub sparse_kernel: SparseKernel,
}

/// The sparsity from which `sparse_kernel = "auto"` computes a Linear layer sparse (measured:
/// docs/benchmarks.md, the sparse-inference table).
pub const AUTO_SPARSE_KERNEL: f64 = 0.9;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SparseKernel {
    #[default]
    Auto,
    Always,
    Never,
}

fn hundred() -> usize {
    100
}
fn one() -> usize {
    1
}

fn half() -> f64 {
    0.5
}
fn drop_fraction() -> f64 {
    0.3
}
fn three_quarters() -> f64 {
    0.75
}

impl PruneConfig {
    /// ΔT, the method's default when not set.
    pub fn frequency(&self) -> u64 {
        self.frequency.unwrap_or(match self.method {
            PruneKind::Rigl => 100,
            _ => 1000,
        })
    }

    /// Values serde cannot check; the error names the key.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let bad = |key: &str, msg: String| Err((format!("prune.{key}"), msg));
        let fraction = |v: f64| v.is_finite() && (0.0..1.0).contains(&v);
        if !fraction(self.final_sparsity) {
            return bad("final_sparsity", format!("must be in [0, 1), got {}", self.final_sparsity));
        }
        if !fraction(self.init_sparsity) || self.init_sparsity > self.final_sparsity {
            return bad("init_sparsity", format!("must be in [0, final_sparsity], got {}", self.init_sparsity));
        }
        if self.frequency == Some(0) {
            return bad("frequency", "must be at least 1 step".into());
        }
        if !(self.regeneration.is_finite() && (0.0..=1.0).contains(&self.regeneration)) {
            return bad("regeneration", format!("must be in [0, 1], got {}", self.regeneration));
        }
        if !(self.drop_fraction.is_finite() && (0.0..=1.0).contains(&self.drop_fraction)) {
            return bad("drop_fraction", format!("must be in [0, 1], got {}", self.drop_fraction));
        }
        if !(self.rigl_end.is_finite() && self.rigl_end > 0.0 && self.rigl_end <= 1.0) {
            return bad("rigl_end", format!("must be in (0, 1], got {}", self.rigl_end));
        }
        if self.iterations == 0 {
            return bad("iterations", "must be at least 1".into());
        }
        if self.score_batches == 0 {
            return bad("score_batches", "must be at least 1".into());
        }
        if (self.method.one_shot() || matches!(self.method, PruneKind::Supermask | PruneKind::Hidenseek)) && self.init_sparsity != 0.0 {
            return bad("init_sparsity", format!("{:?} prunes to final_sparsity at once; remove init_sparsity", self.method).to_lowercase());
        }
        if self.method == PruneKind::Rigl && self.init_sparsity != 0.0 {
            return bad("init_sparsity", "RigL keeps final_sparsity from the start; remove init_sparsity".into());
        }
        Ok(())
    }
}

impl PruneConfig {
    /// The method as the runner drives it; `seed` is the run's (random masks and scores).
    pub fn build<M: plasticity_core::PlasticModel>(&self, seed: u64) -> Box<dyn plasticity_core::Method<M>> {
        match self.method {
            PruneKind::Supermask | PruneKind::Hidenseek => Box::new(crate::SupermaskMethod::new(self.clone(), seed)),
            _ => Box::new(crate::PruneMethod::new(self.clone(), seed)),
        }
    }
}
