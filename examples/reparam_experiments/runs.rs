//! Reading the runs of an experiment (`runs/<group>/<arm>/seed<N>/results.json`) and the
//! statistics of the tables.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub type Error = Box<dyn std::error::Error>;

/// One run: its directory and its results.json.
pub struct Run {
    pub dir: PathBuf,
    pub seed: u64,
    pub results: Value,
}

impl Run {
    /// Per-epoch values of `key` (`train_loss`, `valid_accuracy`, …).
    pub fn epochs(&self, key: &str) -> Vec<f64> {
        self.results["epochs"]
            .as_array()
            .map(|e| e.iter().filter_map(|r| r[key].as_f64()).collect())
            .unwrap_or_default()
    }

    pub fn test_accuracy(&self) -> Option<f64> {
        self.results["test_accuracy"].as_f64()
    }
}

/// `runs/<group>/<arm>/seed<N>` → runs by (group, arm), in seed order.
pub fn read_runs(dir: &Path) -> Result<BTreeMap<(String, String), Vec<Run>>, Error> {
    let mut out: BTreeMap<(String, String), Vec<Run>> = BTreeMap::new();
    let runs = dir.join("runs");
    for group in sorted_dirs(&runs)? {
        for arm in sorted_dirs(&group)? {
            for seed_dir in sorted_dirs(&arm)? {
                let file = seed_dir.join("results.json");
                let Some(seed) = name(&seed_dir).strip_prefix("seed").and_then(|s| s.parse().ok()) else {
                    continue;
                };
                if !file.exists() {
                    eprintln!("warning: {} has no results.json (unfinished run); left out", seed_dir.display());
                    continue;
                }
                let results: Value = serde_json::from_slice(&std::fs::read(&file)?).map_err(|e| format!("{}: {e}", file.display()))?;
                out.entry((name(&group), name(&arm))).or_default().push(Run {
                    dir: seed_dir,
                    seed,
                    results,
                });
            }
        }
    }
    if out.is_empty() {
        return Err(format!("no runs under {}", runs.display()).into());
    }
    for runs in out.values_mut() {
        runs.sort_by_key(|r| r.seed);
    }
    Ok(out)
}

fn name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn sorted_dirs(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    Ok(dirs)
}

/// Mean, sample standard deviation and count.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Stats {
    pub mean: f64,
    pub std: f64,
    pub n: usize,
}

impl Stats {
    pub fn of(values: &[f64]) -> Option<Self> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let var = match n {
            1 => 0.0,
            _ => values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64,
        };
        Some(Self { mean, std: var.sqrt(), n })
    }

    /// Standard error of the mean.
    pub fn se(&self) -> f64 {
        self.std / (self.n as f64).sqrt()
    }

    /// `mean ± std` with `digits` decimals, scaled by `scale` (100 for percentages).
    pub fn show(&self, scale: f64, digits: usize) -> String {
        format!("{:.digits$} ± {:.digits$}", self.mean * scale, self.std * scale)
    }
}

/// The element-wise mean of equally long prefixes (the shortest run's length).
pub fn mean_curve(curves: &[Vec<f64>]) -> Vec<(f64, f64)> {
    let len = curves.iter().map(Vec::len).min().unwrap_or(0);
    (0..len)
        .map(|i| ((i + 1) as f64, curves.iter().map(|c| c[i]).sum::<f64>() / curves.len() as f64))
        .collect()
}

/// Writes `text` to `path`, naming it on failure.
pub fn write(path: &Path, text: &str) -> Result<(), Error> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()).into())
}
