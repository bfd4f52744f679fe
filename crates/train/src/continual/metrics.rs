//! The accuracy matrix of a task stream and the metrics read from it
//! (../shared/specs/continual.md §6.5).
//!
//! `R[i][j]` is the test accuracy on task `j` (0-based column) after training on task `i`
//! (1-based row; row 0 is the model at initialisation, so that forward transfer has its
//! baseline). With `T` tasks the matrix has `T + 1` rows of `T` columns. Task `j` (0-based) is
//! trained in row `j + 1`.
//!
//! - Average accuracy (GEM, Lopez-Paz & Ranzato 2017): `ACC = (1/T) Σ_j R[T][j]`, and the
//!   sample-weighted one, `Σ_j n_j R[T][j] / Σ_j n_j` (Avalanche's `StreamAccuracy`), with `n_j`
//!   task `j`'s test-set size.
//! - Backward transfer (GEM): `BWT = 1/(T−1) Σ_{j<T−1} (R[T][j] − R[j+1][j])`; negative is
//!   forgetting.
//! - Forward transfer (GEM): `FWT = 1/(T−1) Σ_{j≥1} (R[j][j] − R[0][j])`: the accuracy on task
//!   `j` just before training on it, against the initial model's.
//! - Forgetting, Chaudhry et al. 2018 (RWalk): `f_j = max_{1≤l<T} R[l][j] − R[T][j]`, averaged
//!   over the tasks before the last.
//! - Forgetting, Avalanche (`ExperienceForgetting`): `f_j = R[j+1][j] − R[T][j]` (accuracy right
//!   after training on `j` minus the final one), averaged over the tasks before the last;
//!   equals `−BWT`.
//! - Plasticity: the accuracy on the newest task right after training on it, `R[j+1][j]`, per
//!   task and averaged (GEM's "learning accuracy").

use serde::Serialize;

/// `T + 1` rows (row 0: at initialisation) of `T` accuracies.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AccuracyMatrix {
    rows: Vec<Vec<f64>>,
}

/// Everything `results.json` reports about a finished stream. Metrics that need two tasks are
/// `None` for one.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StreamMetrics {
    pub average_accuracy: f64,
    pub average_accuracy_sample_weighted: f64,
    pub backward_transfer: Option<f64>,
    pub forward_transfer: Option<f64>,
    pub forgetting_chaudhry: Option<f64>,
    pub forgetting_avalanche: Option<f64>,
    /// `R[j+1][j]` for every task.
    pub plasticity_per_task: Vec<f64>,
    pub plasticity: f64,
}

impl AccuracyMatrix {
    /// Checks the shape: at least one task, `T + 1` rows of `T` values each.
    pub fn new(rows: Vec<Vec<f64>>) -> Result<Self, String> {
        let tasks = rows.first().map_or(0, Vec::len);
        if tasks == 0 {
            return Err("the accuracy matrix has no task".into());
        }
        if rows.len() != tasks + 1 {
            return Err(format!("{} rows for {tasks} tasks: expected {} (row 0 at initialisation)", rows.len(), tasks + 1));
        }
        if let Some((i, row)) = rows.iter().enumerate().find(|(_, r)| r.len() != tasks) {
            return Err(format!("row {i} has {} values, expected {tasks}", row.len()));
        }
        Ok(Self { rows })
    }

    pub fn tasks(&self) -> usize {
        self.rows[0].len()
    }

    pub fn rows(&self) -> &[Vec<f64>] {
        &self.rows
    }

    /// `R[i][j]`.
    pub fn at(&self, i: usize, j: usize) -> f64 {
        self.rows[i][j]
    }

    fn last(&self) -> &[f64] {
        &self.rows[self.tasks()]
    }

    /// The metrics; `test_sizes[j]` is task `j`'s number of test examples.
    pub fn metrics(&self, test_sizes: &[usize]) -> Result<StreamMetrics, String> {
        let t = self.tasks();
        if test_sizes.len() != t || test_sizes.iter().sum::<usize>() == 0 {
            return Err(format!("{} test sizes for {t} tasks (expected {t}, not all zero)", test_sizes.len()));
        }
        let last = self.last();
        let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
        let earlier = 0..t - 1;
        let plasticity_per_task: Vec<f64> = (0..t).map(|j| self.at(j + 1, j)).collect();
        let bwt: Vec<f64> = earlier.clone().map(|j| last[j] - self.at(j + 1, j)).collect();
        let fwt: Vec<f64> = (1..t).map(|j| self.at(j, j) - self.at(0, j)).collect();
        let chaudhry: Vec<f64> = earlier
            .map(|j| (1..t).map(|l| self.at(l, j)).fold(f64::NEG_INFINITY, f64::max) - last[j])
            .collect();
        let weighted = last.iter().zip(test_sizes).map(|(a, &n)| a * n as f64).sum::<f64>() / test_sizes.iter().sum::<usize>() as f64;
        Ok(StreamMetrics {
            average_accuracy: mean(last).unwrap_or_default(),
            average_accuracy_sample_weighted: weighted,
            backward_transfer: mean(&bwt),
            forward_transfer: mean(&fwt),
            forgetting_chaudhry: mean(&chaudhry),
            forgetting_avalanche: mean(&bwt).map(|b| -b),
            plasticity: mean(&plasticity_per_task).unwrap_or_default(),
            plasticity_per_task,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three tasks; row 0 at initialisation. Values chosen so that every definition differs.
    fn example() -> AccuracyMatrix {
        AccuracyMatrix::new(vec![
            vec![0.10, 0.20, 0.30], // init
            vec![0.90, 0.40, 0.35], // after task 0
            vec![0.70, 0.95, 0.50], // after task 1
            vec![0.60, 0.80, 0.85], // after task 2
        ])
        .unwrap()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn metrics_by_hand() {
        let m = example().metrics(&[100, 100, 200]).unwrap();
        // ACC = (0.60 + 0.80 + 0.85)/3; weighted = (60 + 80 + 170)/400.
        assert!(close(m.average_accuracy, 0.75));
        assert!(close(m.average_accuracy_sample_weighted, 0.775));
        // BWT = ((0.60 − 0.90) + (0.80 − 0.95))/2 = −0.225; Avalanche's forgetting is its negation.
        assert!(close(m.backward_transfer.unwrap(), -0.225));
        assert!(close(m.forgetting_avalanche.unwrap(), 0.225));
        // FWT = ((R[1][1] − R[0][1]) + (R[2][2] − R[0][2]))/2 = ((0.40 − 0.20) + (0.50 − 0.30))/2.
        assert!(close(m.forward_transfer.unwrap(), 0.2));
        // Chaudhry: max over rows 1..T−1 = rows 1, 2: task 0 max(0.90, 0.70) − 0.60 = 0.30,
        // task 1 max(0.40, 0.95) − 0.80 = 0.15 → 0.225 (here equal to Avalanche's; below not).
        assert!(close(m.forgetting_chaudhry.unwrap(), 0.225));
        assert_eq!(m.plasticity_per_task, vec![0.90, 0.95, 0.85]);
        assert!(close(m.plasticity, 0.9));
    }

    /// Chaudhry's max can come from a later row than the task's own (a task that improved after
    /// it was trained); Avalanche's definition uses the row right after training.
    #[test]
    fn the_two_forgetting_definitions_differ() {
        let r = AccuracyMatrix::new(vec![vec![0.1, 0.1, 0.1], vec![0.8, 0.2, 0.2], vec![0.9, 0.9, 0.3], vec![0.7, 0.85, 0.9]]).unwrap();
        let m = r.metrics(&[1, 1, 1]).unwrap();
        // Avalanche: ((0.8 − 0.7) + (0.9 − 0.85))/2 = 0.075; Chaudhry: ((0.9 − 0.7) + (0.9 − 0.85))/2 = 0.125.
        assert!(close(m.forgetting_avalanche.unwrap(), 0.075));
        assert!(close(m.forgetting_chaudhry.unwrap(), 0.125));
    }

    #[test]
    fn one_task_has_no_transfer_or_forgetting() {
        let m = AccuracyMatrix::new(vec![vec![0.1], vec![0.9]]).unwrap().metrics(&[10]).unwrap();
        assert!(close(m.average_accuracy, 0.9));
        assert_eq!((m.backward_transfer, m.forward_transfer, m.forgetting_chaudhry), (None, None, None));
    }

    #[test]
    fn bad_shapes_are_named() {
        assert!(AccuracyMatrix::new(vec![]).unwrap_err().contains("no task"));
        assert!(AccuracyMatrix::new(vec![vec![0.1, 0.2]]).unwrap_err().contains("expected 3"));
        assert!(AccuracyMatrix::new(vec![vec![0.1], vec![0.2, 0.3]]).unwrap_err().contains("row 1 has 2"));
        assert!(example().metrics(&[1, 2]).unwrap_err().contains("2 test sizes for 3 tasks"));
    }
}
