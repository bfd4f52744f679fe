//! The run directory's report: `results.json` (every number the docs quote comes from here),
//! `curves.png` and `config.toml` (the resolved config, so `plasticity eval` can rebuild the run).

use crate::config::RunConfig;
use crate::error::{Result, TrainError};
use crate::history::EpochRecord;
use crate::params::Parameters;
use plasticity_core::Evaluation;
use plasticity_core::files::write_atomic;
use plasticity_plot::{Panel, Series, line_chart};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Versions and provenance of the code that produced a result.
#[derive(Clone, Debug, Serialize)]
pub struct Provenance {
    pub plasticity_version: &'static str,
    pub burn_version: &'static str,
    pub git_commit: String,
    pub git_dirty: Option<bool>,
    pub cpu_cores: usize,
}

impl Provenance {
    pub fn collect() -> Self {
        let git = |args: &[&str]| {
            std::process::Command::new("git")
                .args(args)
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        };
        Self {
            plasticity_version: env!("CARGO_PKG_VERSION"),
            burn_version: crate::BURN_VERSION,
            git_commit: git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into()),
            git_dirty: git(&["status", "--porcelain", "--untracked-files=no"]).map(|s| !s.is_empty()),
            cpu_cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// Everything `results.json` holds.
#[derive(Clone, Debug, Serialize)]
pub struct Results {
    pub config: RunConfig,
    pub seed: u64,
    pub device: String,
    pub provenance: Provenance,
    pub epochs: Vec<EpochRecord>,
    pub test: Option<Evaluation>,
    pub test_accuracy: Option<f64>,
    pub parameters: Parameters,
    /// Wall time of this process's run, data loading and test evaluation included.
    pub wall_seconds: f64,
    /// Training examples per second over the training splits of all epochs.
    pub train_examples_per_second: f64,
    /// The process's peak resident memory when the results were written (`VmHWM` of
    /// `/proc/self/status`, bytes); `None` where the system does not report it.
    pub peak_memory_bytes: Option<u64>,
    /// The epoch the run resumed after, if it was resumed.
    pub resumed_after_epoch: Option<usize>,
    /// Why the run stopped before its last epoch (early stopping, Ctrl-C), if it did.
    pub stopped: Option<String>,
    /// The methods' report sections, each under the method's name (TauGate's hard-gate
    /// accuracy and sparsity under `taugate`, say).
    #[serde(flatten)]
    pub methods: BTreeMap<String, serde_json::Value>,
}

impl Results {
    pub fn new(
        config: &RunConfig,
        epochs: Vec<EpochRecord>,
        test: Option<Evaluation>,
        parameters: Parameters,
        wall_seconds: f64,
        resumed_after_epoch: Option<usize>,
        stopped: Option<String>,
    ) -> Self {
        let (examples, seconds) = epochs
            .iter()
            .fold((0u64, 0f64), |(n, s), r| (n + r.train_examples, s + r.train_seconds));
        Self {
            config: config.clone(),
            seed: config.seed,
            device: config.device.clone(),
            provenance: Provenance::collect(),
            test_accuracy: test.map(|t| t.accuracy),
            test,
            parameters,
            wall_seconds,
            train_examples_per_second: if seconds > 0.0 { examples as f64 / seconds } else { 0.0 },
            peak_memory_bytes: peak_memory_bytes(),
            epochs,
            resumed_after_epoch,
            stopped,
            methods: BTreeMap::new(),
        }
    }
}

/// `VmHWM` of `/proc/self/status` in bytes (Linux), the process's peak resident set.
pub fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Writes `results.json`, `config.toml` and `curves.png` into `dir`.
pub fn write_report(dir: &Path, results: &Results) -> Result<()> {
    let json_path = dir.join("results.json");
    let json = serde_json::to_vec_pretty(results).map_err(|e| TrainError::io(&json_path, e))?;
    write_atomic(&json_path, &json).map_err(|e| TrainError::io(&json_path, e))?;
    let config_path = dir.join("config.toml");
    let toml = toml::to_string_pretty(&results.config).map_err(|e| TrainError::io(&config_path, e))?;
    write_atomic(&config_path, toml.as_bytes()).map_err(|e| TrainError::io(&config_path, e))?;
    let curves = dir.join("curves.png");
    draw_curves(&curves, &results.epochs).map_err(|e| TrainError::io(&curves, e))
}

fn series(name: &str, epochs: &[EpochRecord], value: impl Fn(&EpochRecord) -> f64) -> Series {
    Series {
        name: name.into(),
        points: epochs.iter().map(|r| (r.epoch as f64, value(r))).collect(),
    }
}

/// Loss and accuracy per epoch, train and validation.
pub fn draw_curves(path: &Path, epochs: &[EpochRecord]) -> Result<(), plasticity_plot::PlotError> {
    let loss = Panel {
        title: "loss".into(),
        x_label: "epoch".into(),
        y_label: "cross-entropy".into(),
        series: vec![
            series("train", epochs, |r| r.train_loss),
            series("valid", epochs, |r| r.valid_loss),
        ],
    };
    let accuracy = Panel {
        title: "accuracy".into(),
        x_label: "epoch".into(),
        y_label: "accuracy".into(),
        series: vec![
            series("train", epochs, |r| r.train_accuracy),
            series("valid", epochs, |r| r.valid_accuracy),
        ],
    };
    line_chart(path, &[loss, accuracy], 560, 400)
}
