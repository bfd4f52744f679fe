//! The stream's figures: `accuracy-matrix.png` (R as a heatmap: rows are "after task i", row 0
//! at initialisation; columns the tasks) and `tasks.png` (each task's accuracy against the
//! number of tasks trained, one line per task).

use super::metrics::AccuracyMatrix;
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
