//! Parameter counts by module path, trainable vs total (like peft's
//! `print_trainable_parameters`).

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;
use serde::Serialize;

/// One parameter tensor.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ParamRow {
    pub path: String,
    pub shape: Vec<usize>,
    pub count: usize,
    pub trainable: bool,
}

#[derive(Default)]
struct Collector {
    path: Vec<String>,
    rows: Vec<ParamRow>,
}

impl ModuleVisitor for Collector {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let shape = param.lazy_shape().dims::<D>().to_vec();
        self.rows.push(ParamRow {
            path: self.path.join("."),
            count: shape.iter().product(),
            shape,
            trainable: param.is_require_grad(),
        });
    }
}

/// Every float parameter of `module`, in visiting order, with dotted paths.
pub fn param_rows<M: Module>(module: &M) -> Vec<ParamRow> {
    let mut collector = Collector::default();
    module.visit(&mut collector);
    collector.rows
}

/// Trainable and total parameter counts.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
pub struct ParamCounts {
    pub trainable: usize,
    pub total: usize,
}

pub fn count_params<M: Module>(module: &M) -> ParamCounts {
    param_rows(module).iter().fold(ParamCounts::default(), |mut c, r| {
        c.total += r.count;
        if r.trainable {
            c.trainable += r.count;
        }
        c
    })
}

/// A text table, then peft's summary line.
pub fn format_table(rows: &[ParamRow]) -> String {
    let width = rows.iter().map(|r| r.path.len()).max().unwrap_or(4).max(4);
    let mut out = format!("{:<width$}  {:<16}  {:>12}  trainable\n", "path", "shape", "params");
    for r in rows {
        let shape = format!("{:?}", r.shape);
        out += &format!(
            "{:<width$}  {:<16}  {:>12}  {}\n",
            r.path,
            shape,
            r.count,
            if r.trainable { "yes" } else { "no" }
        );
    }
    let c = rows.iter().fold(ParamCounts::default(), |mut c, r| {
        c.total += r.count;
        c.trainable += if r.trainable { r.count } else { 0 };
        c
    });
    let pct = if c.total == 0 {
        0.0
    } else {
        100.0 * c.trainable as f64 / c.total as f64
    };
    out += &format!(
        "trainable params: {} || all params: {} || trainable%: {pct:.4}\n",
        c.trainable, c.total
    );
    out
}

/// Parameters of a run's trained module: the model and its gates (not the step counter).
pub fn count_trainee_params<M: plasticity_models::PlasticModel>(trainee: &crate::Trainee<M>) -> ParamCounts {
    let model = count_params(&trainee.model);
    let gates = trainee.gates.as_ref().map(count_params).unwrap_or_default();
    ParamCounts {
        trainable: model.trainable + gates.trainable,
        total: model.total + gates.total,
    }
}
