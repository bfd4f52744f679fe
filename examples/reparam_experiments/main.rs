//! The aggregates of the two weight-reparameterization experiments: tables (results.md,
//! results.json) and PNGs from the files the runs wrote.
//!
//! ```text
//! cargo run --release --example reparam_experiments -- weight-norm experiments/weight-norm
//! cargo run --release --example reparam_experiments -- compander experiments/weight-compander
//! ```
//!
//! Each experiment's `run.sh` trains the runs into `<experiment>/runs/` and then calls this.

mod compander;
mod runs;
mod weight_norm;

use std::path::PathBuf;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [kind, dir] if kind == "weight-norm" => weight_norm::aggregate(&PathBuf::from(dir)),
        [kind, dir] if kind == "compander" => compander::aggregate(&PathBuf::from(dir)),
        _ => Err("usage: reparam_experiments (weight-norm | compander) <experiment directory>".into()),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
