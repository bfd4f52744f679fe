//! Library side of `plasticity eval` and `plasticity inspect`.

use crate::config::RunConfig;
use crate::datasets::{load_raw, prepare_test};
use crate::device::parse_device;
use crate::error::{Result, TrainError};
use crate::evaluate::{Evaluation, evaluate};
use crate::params::{format_table, param_rows};
use crate::runner::load_model_file;
use plasticity_models::{PlasticModel, WithModel};
use plasticity_peft::GateSet;
use std::path::Path;

/// Evaluates `<run>/model.bpk` on the test split described by `config` (the run's own
/// `config.toml`, possibly with overrides such as another rotation).
pub fn evaluate_run(run: &Path, config: &RunConfig) -> Result<Evaluation> {
    let device = parse_device(&config.device).map_err(|e| TrainError::Device(e.to_string()))?.device();
    let raw = load_raw(&config.data)?;
    let test = prepare_test(&raw, &config.data, config.seed)?;
    struct Eval<'a> {
        config: &'a RunConfig,
        run: &'a Path,
        test: std::sync::Arc<plasticity_data::ImageSet>,
        device: burn::tensor::Device,
    }
    impl WithModel for Eval<'_> {
        type Output = Result<Evaluation>;
        fn run<M: PlasticModel>(self, model: M) -> Result<Evaluation> {
            let (model, gates) = load_run_model(model, self.config, self.run, &self.device)?;
            let forward = |x| match &gates {
                Some(g) => model.forward_hooked(x, g),
                None => model.forward(x),
            };
            Ok(evaluate(forward, self.test, self.config.train.eval_batch_size, &self.device)?)
        }
    }
    config.model.build(&device, Eval { config, run, test, device: device.clone() })
}

/// The model of a finished run: built from its config, adapted as its `[peft]` says, with
/// `model.bpk` (and `gates.bpk` for TauGate) loaded.
pub fn load_run_model<M: PlasticModel>(
    model: M,
    config: &RunConfig,
    run: &Path,
    device: &burn::tensor::Device,
) -> Result<(M, Option<GateSet>)> {
    let _ = param_rows(&model); // initialise lazy params before adapting (burn-0.22 §11.7)
    let (model, gates) = match &config.peft {
        Some(crate::peft::PeftMethod::Triadapt(c)) => {
            let path = run.join("rank_pattern.json");
            let text = std::fs::read_to_string(&path).map_err(|e| TrainError::io(&path, e))?;
            let pattern = serde_json::from_str(&text).map_err(|e| TrainError::io(&path, e))?;
            (c.apply_with_pattern(model, &pattern).map_err(|e| TrainError::io(&path, e))?, None)
        }
        Some(method) => crate::peft::attach(model, method, device)?,
        None => (model, None),
    };
    let model = load_model_file(model, &run.join("model.bpk"))?;
    let gates = match gates {
        Some(g) => Some(load_model_file(g, &run.join("gates.bpk"))?),
        None => None,
    };
    Ok((model, gates))
}

/// The parameter table of the model `config` builds.
pub fn inspect(config: &RunConfig) -> Result<String> {
    // On the autodiff device, as for training: trainability is a property of tracked tensors.
    let device = crate::runner::training_device(config)?;
    struct Table<'a>(&'a RunConfig, burn::tensor::Device);
    impl WithModel for Table<'_> {
        type Output = Result<String>;
        fn run<M: PlasticModel>(self, model: M) -> Result<String> {
            let _ = param_rows(&model);
            let (model, gates) = match &self.0.peft {
                Some(method) => crate::peft::attach(model, method, &self.1)?,
                None => (model, None),
            };
            let mut rows = param_rows(&model);
            if let Some(gates) = &gates {
                rows.extend(param_rows(gates).into_iter().map(|mut r| {
                    r.path = format!("taugate.{}", r.path);
                    r
                }));
            }
            Ok(format_table(&rows))
        }
    }
    config.model.build(&device.clone(), Table(config, device))
}

/// What `plasticity merge` did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MergeReport {
    /// The file written: a plain model (weights with the adapters folded in) for weight-space
    /// methods; for TauGate, whose gates depend on the input, the frozen base model (the gates
    /// stay in `gates.bpk` and run hardened at inference).
    pub merged: std::path::PathBuf,
    /// Largest |adapted − merged| logit over the first `checked_examples` test images.
    pub max_abs_diff: f64,
    pub checked_examples: usize,
}

/// Folds a run's adapters into its weights (Burn's `materialize`) and writes `merged.bpk`,
/// checking that the merged model computes the same logits as the adapted one.
pub fn merge_run(run: &Path, config: &RunConfig) -> Result<MergeReport> {
    let device = parse_device(&config.device).map_err(|e| TrainError::Device(e.to_string()))?.device();
    let raw = load_raw(&config.data)?;
    let test = prepare_test(&raw, &config.data, config.seed)?;
    struct Merge<'a> {
        config: &'a RunConfig,
        run: &'a Path,
        test: std::sync::Arc<plasticity_data::ImageSet>,
        device: burn::tensor::Device,
    }
    impl WithModel for Merge<'_> {
        type Output = Result<MergeReport>;
        fn run<M: PlasticModel>(self, model: M) -> Result<MergeReport> {
            let (model, gates) = load_run_model(model, self.config, self.run, &self.device)?;
            let n = self.test.len().min(1000);
            let indices: Vec<usize> = (0..n).collect();
            let x = plasticity_data::make_batch(&self.test, &indices, &self.device).images;
            let adapted = match &gates {
                Some(g) => model.forward_hooked(x.clone(), g),
                None => model.forward(x.clone()),
            };
            let merged = model.materialize();
            let merged_out = match &gates {
                Some(g) => merged.forward_hooked(x, g),
                None => merged.forward(x),
            };
            let max_abs_diff = (adapted - merged_out).abs().max().into_scalar::<f64>();
            let path = self.run.join("merged.bpk");
            let bytes = merged.into_record().into_bytes().map_err(|e| TrainError::io(&path, e))?;
            crate::checkpoint::write_atomic(&path, &bytes).map_err(|e| TrainError::io(&path, e))?;
            Ok(MergeReport { merged: path, max_abs_diff, checked_examples: n })
        }
    }
    config.model.build(&device.clone(), Merge { config, run, test, device })
}

/// Writes a LoRA or MiSS run in Hugging Face peft format: `<out>/adapter/` (adapter_model.safetensors
/// + adapter_config.json, for `PeftModel.from_pretrained`) and `<out>/base.safetensors` (the frozen
/// base model in PyTorch layout, for `load_state_dict`). Other runs export only the base (merged
/// for IA3 and TriAdaptLoRA, which peft cannot load from our files).
pub fn export_run(run: &Path, config: &RunConfig, out: &Path) -> Result<Vec<std::path::PathBuf>> {
    let device = parse_device(&config.device).map_err(|e| TrainError::Device(e.to_string()))?.device();
    struct Export<'a> {
        config: &'a RunConfig,
        run: &'a Path,
        out: &'a Path,
        device: burn::tensor::Device,
    }
    impl WithModel for Export<'_> {
        type Output = Result<Vec<std::path::PathBuf>>;
        fn run<M: PlasticModel>(self, model: M) -> Result<Vec<std::path::PathBuf>> {
            use crate::peft::PeftMethod;
            let (model, _gates) = load_run_model(model, self.config, self.run, &self.device)?;
            std::fs::create_dir_all(self.out).map_err(|e| TrainError::io(self.out, e))?;
            let adapter = self.out.join("adapter");
            let base = self.out.join("base.safetensors");
            let fail = |path: &Path, e: plasticity_peft::PeftError| TrainError::io(path, e);
            let mut written = Vec::new();
            match &self.config.peft {
                Some(PeftMethod::Lora(c)) => {
                    plasticity_peft::hf::export_lora(&model, c, &adapter).map_err(|e| fail(&adapter, e))?;
                    written.push(adapter);
                }
                Some(PeftMethod::Miss(c)) => {
                    plasticity_peft::hf::export_miss(&model, c, &adapter).map_err(|e| fail(&adapter, e))?;
                    written.push(adapter);
                }
                _ => {}
            }
            let base_model = match &self.config.peft {
                Some(PeftMethod::Ia3(_)) | Some(PeftMethod::Triadapt(_)) => {
                    let merged = burn::module::Module::materialize(model);
                    plasticity_peft::hf::export_base_pytorch(&merged, &base)
                }
                _ => plasticity_peft::hf::export_base_pytorch(&model, &base),
            };
            base_model.map_err(|e| fail(&base, e))?;
            written.push(base);
            Ok(written)
        }
    }
    config.model.build(&device.clone(), Export { config, run, out, device })
}
