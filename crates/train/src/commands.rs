//! Library side of `plasticity eval` and `plasticity inspect`.

use crate::config::RunConfig;
use crate::datasets::{load_raw, prepare_test};
use crate::device::parse_device;
use crate::error::{Result, TrainError};
use crate::evaluate::{Evaluation, evaluate};
use crate::params::{format_table, param_rows};
use crate::runner::load_model_file;
use plasticity_models::{PlasticModel, WithModel};
use std::path::Path;

/// Evaluates `<run>/model.bpk` on the test split described by `config` (the run's own
/// `config.toml`, possibly with overrides such as another rotation).
pub fn evaluate_run(run: &Path, config: &RunConfig) -> Result<Evaluation> {
    let device = parse_device(&config.device).map_err(|e| TrainError::Device(e.to_string()))?.device();
    let raw = load_raw(&config.data)?;
    let test = prepare_test(&raw, &config.data, config.seed)?;
    let model_path = run.join("model.bpk");
    struct Eval<'a> {
        path: &'a Path,
        test: std::sync::Arc<plasticity_data::ImageSet>,
        batch: usize,
        device: burn::tensor::Device,
    }
    impl WithModel for Eval<'_> {
        type Output = Result<Evaluation>;
        fn run<M: PlasticModel>(self, model: M) -> Result<Evaluation> {
            let model = load_model_file(model, self.path)?;
            Ok(evaluate(&model, self.test, self.batch, &self.device)?)
        }
    }
    config.model.build(&device, Eval { path: &model_path, test, batch: config.train.eval_batch_size, device: device.clone() })
}

/// The parameter table of the model `config` builds.
pub fn inspect(config: &RunConfig) -> Result<String> {
    // On the autodiff device, as for training: trainability is a property of tracked tensors.
    let device = crate::runner::training_device(config)?;
    struct Table;
    impl WithModel for Table {
        type Output = String;
        fn run<M: PlasticModel>(self, model: M) -> String {
            format_table(&param_rows(&model))
        }
    }
    Ok(config.model.build(&device, Table))
}
