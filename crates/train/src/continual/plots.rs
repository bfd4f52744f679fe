//! The stream's figures: `accuracy-matrix.png` (R as a heatmap: rows are "after task i", row 0
//! at initialisation; columns the tasks) and `tasks.png` (each task's accuracy against the
//! number of tasks trained, one line per task), and `plasticity.png` (the plasticity
//! diagnostics against the number of tasks trained).

use super::metrics::AccuracyMatrix;
use plasticity_continual::diagnostics::{Diagnostics, LayerDiagnostics};
use plasticity_plot::{Panel, PlotError, Series, heatmap, line_chart};
use std::path::Path;

pub fn accuracy_matrix_png(path: &Path, matrix: &AccuracyMatrix, tasks: &[String]) -> Result<(), PlotError> {
    let rows: Vec<String> = std::iter::once("init".to_string())
        .chain(tasks.iter().map(|t| format!("after {t}")))
        .collect();
    heatmap(path, "accuracy on each task (column) after each task (row)", &rows, tasks, matrix.rows(), "accuracy")
}

pub fn tasks_png(path: &Path, matrix: &AccuracyMatrix, tasks: &[String]) -> Result<(), PlotError> {
    let series = tasks
        .iter()
        .enumerate()
        .map(|(j, name)| Series {
            name: name.clone(),
            points: matrix.rows().iter().enumerate().map(|(i, row)| (i as f64, row[j])).collect(),
        })
        .collect();
    let panel = Panel {
        title: "accuracy on each task".into(),
        x_label: "tasks trained".into(),
        y_label: "test accuracy".into(),
        series,
    };
    line_chart(path, &[panel], 640, 420)
}

/// `plasticity.png`: against the number of tasks trained, each hidden layer's dead-unit
/// fraction, effective rank and mean |w|, and the accuracy on the newest task (test or
/// prequential).
pub fn plasticity_png(path: &Path, diagnostics: &[Diagnostics], new_task: &[f64]) -> Result<(), PlotError> {
    let layers: Vec<String> = diagnostics
        .first()
        .map(|d| d.layers.iter().map(|l| l.layer.clone()).collect())
        .unwrap_or_default();
    let per_layer = |title: &str, y: &str, value: fn(&LayerDiagnostics) -> f64| Panel {
        title: title.into(),
        x_label: "tasks trained".into(),
        y_label: y.into(),
        series: layers
            .iter()
            .enumerate()
            .map(|(l, name)| Series {
                name: name.clone(),
                points: diagnostics
                    .iter()
                    .enumerate()
                    .filter_map(|(i, d)| Some((i as f64, value(d.layers.get(l)?))))
                    .collect(),
            })
            .collect(),
    };
    let newest = Panel {
        title: "accuracy on the newest task".into(),
        x_label: "tasks trained".into(),
        y_label: "test accuracy".into(),
        series: vec![Series {
            name: "new task".into(),
            points: new_task.iter().enumerate().filter(|(_, a)| a.is_finite()).map(|(k, &a)| (k as f64 + 1.0, a)).collect(),
        }],
    };
    let panels = [
        per_layer("dead units", "fraction of the layer", |l| l.dead_fraction),
        per_layer("effective rank", "effective rank", |l| l.effective_rank),
        per_layer("weight magnitude", "mean |w|", |l| l.weight_magnitude),
        newest,
    ];
    line_chart(path, &panels, 480, 420)
}
