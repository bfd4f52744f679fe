//! The parameter census of a run: every parameter of the model and of the methods' modules,
//! with its role (`base`, `adapter`, a method's own word), trainable vs total (like peft's
//! `print_trainable_parameters`), per role.

use crate::trainee::{Methods, Trainee};
use plasticity_core::{ParamCounts, ParamInfo, PlasticModel, param_infos};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One parameter tensor of the census.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ParamRow {
    pub path: String,
    pub shape: Vec<usize>,
    pub count: usize,
    pub trainable: bool,
    pub role: String,
}

/// Every float parameter of `trainee`: the model's with their own paths, then each method
/// module's as `<method>.<path>`.
pub fn census<M: PlasticModel>(trainee: &Trainee<M>, methods: &Methods<M>) -> Vec<ParamRow> {
    let row = |p: ParamInfo| ParamRow {
        role: methods.role(&p),
        count: p.count(),
        path: trainee.model.external_name(&p.path),
        shape: p.shape,
        trainable: p.trainable,
    };
    param_infos(&trainee.model)
        .into_iter()
        .chain(param_infos(&trainee.modules))
        .map(row)
        .collect()
}

/// Counts of a run's parameters, in `results.json`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Parameters {
    pub trainable: usize,
    pub total: usize,
    /// The same counts per role.
    pub by_role: BTreeMap<String, ParamCounts>,
}

impl Parameters {
    pub fn of(rows: &[ParamRow]) -> Self {
        let mut out = Self::default();
        for r in rows {
            let trainable = if r.trainable { r.count } else { 0 };
            out.total += r.count;
            out.trainable += trainable;
            let role = out.by_role.entry(r.role.clone()).or_default();
            role.total += r.count;
            role.trainable += trainable;
        }
        out
    }
}

/// A text table, one line per role, then peft's summary line.
pub fn format_table(rows: &[ParamRow]) -> String {
    let width = rows.iter().map(|r| r.path.len()).max().unwrap_or(4).max(4);
    let mut out = format!(
        "{:<width$}  {:<16}  {:>12}  {:<9}  role\n",
        "path", "shape", "params", "trainable"
    );
    for r in rows {
        let shape = format!("{:?}", r.shape);
        let trainable = if r.trainable { "yes" } else { "no" };
        out += &format!(
            "{:<width$}  {:<16}  {:>12}  {:<9}  {}\n",
            r.path, shape, r.count, trainable, r.role
        );
    }
    let counts = Parameters::of(rows);
    for (role, c) in &counts.by_role {
        out += &format!("{role}: {} params, {} trainable\n", c.total, c.trainable);
    }
    let pct = match counts.total {
        0 => 0.0,
        total => 100.0 * counts.trainable as f64 / total as f64,
    };
    out += &format!(
        "trainable params: {} || all params: {} || trainable%: {pct:.4}\n",
        counts.trainable, counts.total
    );
    out
}
