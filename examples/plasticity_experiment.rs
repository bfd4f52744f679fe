//! The aggregate of experiments/loss-of-plasticity: from each run's `tasks.jsonl` (one line per
//! task: prequential new-task accuracy and the plasticity diagnostics) and `results.json`, the
//! pre-registered metric (mean new-task accuracy over the last 10 tasks minus the first 10) per
//! method with its standard error across seeds, the diagnostics at the end, `results.json`,
//! `results.md` and `plasticity.png` (new-task accuracy and dead-unit fraction against the task
//! index, mean over seeds, one line per method).
//!
//! ```text
//! cargo run --release --example plasticity_experiment -- experiments/loss-of-plasticity
//! ```

use plasticity::plot::{Panel, Series, line_chart};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const METHODS: [&str; 4] = ["backprop", "l2", "shrink-perturb", "cbp"];
/// Tasks averaged at each end of the stream for the pre-registered metric.
const ENDS: usize = 10;

type Error = Box<dyn std::error::Error>;

/// One run: per task (row 1 on), new-task accuracy, dead fraction, effective rank and mean |w|
/// of the hidden layer; and its wall time (the sum of its tasks').
struct Run {
    accuracy: Vec<f64>,
    dead: Vec<f64>,
    rank: Vec<f64>,
    weight: Vec<f64>,
    wall: f64,
}

fn read_run(dir: &Path) -> Result<Run, Error> {
    let text = std::fs::read_to_string(dir.join("tasks.jsonl")).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut run = Run {
        accuracy: Vec::new(),
        dead: Vec::new(),
        rank: Vec::new(),
        weight: Vec::new(),
        wall: 0.0,
    };
    for line in text.lines().skip(1) {
        let v: Value = serde_json::from_str(line)?;
        let layer = &v["diagnostics"]["layers"][0];
        let num = |x: &Value| x.as_f64().ok_or_else(|| format!("{}: a line without {x}", dir.display()));
        run.accuracy.push(num(&v["new_task_accuracy"])?);
        run.dead.push(num(&layer["dead_fraction"])?);
        run.rank.push(num(&layer["effective_rank"])?);
        run.weight.push(num(&layer["weight_magnitude"])?);
        // The tasks' own times: a resumed run's results.json counts only its last process.
        run.wall += num(&v["wall_seconds"])?;
    }
    if !dir.join("results.json").exists() {
        return Err(format!("{}: the stream has not finished", dir.display()).into());
    }
    Ok(run)
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Mean and standard error (sample standard deviation / √n).
fn mean_se(v: &[f64]) -> (f64, f64) {
    let m = mean(v);
    if v.len() < 2 {
        return (m, f64::NAN);
    }
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64;
    (m, (var / v.len() as f64).sqrt())
}

/// Per task, the mean over runs.
fn mean_curve(runs: &[Run], field: fn(&Run) -> &Vec<f64>) -> Vec<f64> {
    let n = runs.iter().map(|r| field(r).len()).min().unwrap_or(0);
    (0..n).map(|k| mean(&runs.iter().map(|r| field(r)[k]).collect::<Vec<_>>())).collect()
}

fn aggregate(root: &Path) -> Result<(), Error> {
    let mut table = serde_json::Map::new();
    let mut md = vec![
        "| method | seeds | tasks | new-task accuracy, first 10 (%) | last 10 (%) | last 10 − first 10 (points, mean ± SE) | below 0 by > 2 SE | dead units, last 10 | effective rank, last 10 | mean abs(w), last 10 | wall per run (s) |".to_string(),
        "|---|---|---|---|---|---|---|---|---|---|---|".to_string(),
    ];
    let (mut accuracy, mut dead) = (Vec::new(), Vec::new());
    for method in METHODS {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join("runs").join(method))
            .map(|d| d.flatten().map(|e| e.path()).filter(|p| p.join("results.json").exists()).collect())
            .unwrap_or_default();
        dirs.sort();
        if dirs.is_empty() {
            continue;
        }
        let runs = dirs.iter().map(|d| read_run(d)).collect::<Result<Vec<_>, _>>()?;
        let tasks = runs.iter().map(|r| r.accuracy.len()).min().unwrap_or(0);
        if tasks < 2 * ENDS {
            return Err(format!("{method}: {tasks} tasks, fewer than {}", 2 * ENDS).into());
        }
        let first: Vec<f64> = runs.iter().map(|r| mean(&r.accuracy[..ENDS])).collect();
        let last: Vec<f64> = runs.iter().map(|r| mean(&r.accuracy[tasks - ENDS..tasks])).collect();
        let change: Vec<f64> = first.iter().zip(&last).map(|(f, l)| 100.0 * (l - f)).collect();
        let (c, se) = mean_se(&change);
        let end = |field: fn(&Run) -> &Vec<f64>| mean(&runs.iter().map(|r| mean(&field(r)[tasks - ENDS..tasks])).collect::<Vec<_>>());
        let (d, rk, w) = (end(|r| &r.dead), end(|r| &r.rank), end(|r| &r.weight));
        let wall = mean(&runs.iter().map(|r| r.wall).collect::<Vec<_>>());
        let decays = c + 2.0 * se < 0.0;
        md.push(format!(
            "| {method} | {} | {tasks} | {:.2} | {:.2} | {c:+.2} ± {se:.2} | {} | {d:.3} | {rk:.1} | {w:.4} | {wall:.0} |",
            runs.len(),
            100.0 * mean(&first),
            100.0 * mean(&last),
            if se.is_nan() {
                "– (1 seed)"
            } else if decays {
                "yes"
            } else {
                "no"
            }
        ));
        table.insert(
            method.into(),
            json!({
                "seeds": runs.len(),
                "tasks": tasks,
                "new_task_accuracy_first_10": first,
                "new_task_accuracy_last_10": last,
                "last_minus_first_points": { "per_seed": change, "mean": c, "standard_error": se, "negative_beyond_2_se": decays },
                "last_10": { "dead_fraction": d, "effective_rank": rk, "weight_magnitude": w },
                "wall_seconds_per_run": wall,
            }),
        );
        let series = |field: fn(&Run) -> &Vec<f64>| Series {
            name: method.into(),
            points: mean_curve(&runs, field).into_iter().enumerate().map(|(k, v)| ((k + 1) as f64, v)).collect(),
        };
        accuracy.push(series(|r| &r.accuracy));
        dead.push(series(|r| &r.dead));
    }
    if table.is_empty() {
        return Err(format!("no finished runs under {}", root.join("runs").display()).into());
    }
    std::fs::write(root.join("results.json"), serde_json::to_string_pretty(&Value::Object(table))? + "\n")?;
    let text = format!(
        "Online Permuted MNIST (configs/online-pmnist.toml): new-task accuracy is prequential (each image scored before the \
         model trains on it), averaged per task; the diagnostics are on 500 test images of the task just trained. \
         Generated by examples/plasticity_experiment.rs from the runs' tasks.jsonl and results.json.\n\n{}\n",
        md.join("\n")
    );
    std::fs::write(root.join("results.md"), &text)?;
    print!("{text}");
    let panel = |title: &str, y: &str, series: Vec<Series>| Panel {
        title: title.into(),
        x_label: "task".into(),
        y_label: y.into(),
        series,
    };
    line_chart(
        &root.join("plasticity.png"),
        &[
            panel("new-task accuracy (prequential)", "accuracy", accuracy),
            panel("dead hidden units", "fraction", dead),
        ],
        640,
        420,
    )?;
    Ok(())
}

fn main() {
    let root = std::env::args().nth(1).unwrap_or_else(|| "experiments/loss-of-plasticity".into());
    if let Err(e) = aggregate(Path::new(&root)) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
