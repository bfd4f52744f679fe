//! Library side of `plasticity eval`, `inspect`, `merge` and `export`.

use crate::config::RunConfig;
use crate::datasets::{load_raw, prepare_test};
use crate::device::parse_device;
use crate::error::{Result, TrainError};
use crate::evaluate::{Evaluation, evaluate};
use crate::params::{format_table, param_rows};
use crate::runner::load_model_file;
use burn::tensor::{Device, Tensor};
use plasticity_data::ImageSet;
use plasticity_models::{PlasticModel, WithModel};
use plasticity_peft::GateSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Code run on a finished run's model, built from its config, adapted and loaded (see
/// [`with_run_model`]).
pub trait RunModelTask {
    type Output;
    fn run<M: PlasticModel>(self, model: M, gates: Option<GateSet>, device: &Device) -> Result<Self::Output>;
}

/// Builds the model of `run` as `config` describes it, loads its weights ([`load_run_model`]) on
/// the config's device (without autodiff) and hands it to `task`.
pub fn with_run_model<T: RunModelTask>(run: &Path, config: &RunConfig, task: T) -> Result<T::Output> {
    let device = parse_device(&config.device)
        .and_then(|choice| choice.open())
        .map_err(|e| TrainError::Device(e.to_string()))?;
    struct Loaded<'a, T> {
        run: &'a Path,
        config: &'a RunConfig,
        task: T,
        device: Device,
    }
    impl<T: RunModelTask> WithModel for Loaded<'_, T> {
        type Output = Result<T::Output>;
        fn run<M: PlasticModel>(self, model: M) -> Result<T::Output> {
            let (model, gates) = load_run_model(model, self.config, self.run, &self.device)?;
            self.task.run(model, gates, &self.device)
        }
    }
    config.model.build(
        &device.clone(),
        Loaded {
            run,
            config,
            task,
            device,
        },
    )
}

/// `[batch, features] -> logits` through the gates when there are any.
fn logits<M: PlasticModel>(model: &M, gates: &Option<GateSet>, x: Tensor<2>) -> Tensor<2> {
    match gates {
        Some(g) => model.forward_hooked(x, g),
        None => model.forward(x),
    }
}

/// Evaluates `<run>/model.bpk` on the test split described by `config` (the run's own
/// `config.toml`, possibly with overrides such as another rotation).
pub fn evaluate_run(run: &Path, config: &RunConfig) -> Result<Evaluation> {
    let raw = load_raw(&config.data)?;
    struct Eval {
        test: Arc<ImageSet>,
        batch: usize,
    }
    impl RunModelTask for Eval {
        type Output = Evaluation;
        fn run<M: PlasticModel>(self, model: M, gates: Option<GateSet>, device: &Device) -> Result<Evaluation> {
            Ok(evaluate(|x| logits(&model, &gates, x), self.test, self.batch, device)?)
        }
    }
    let test = prepare_test(&raw, &config.data, config.seed)?;
    with_run_model(
        run,
        config,
        Eval {
            test,
            batch: config.train.eval_batch_size,
        },
    )
}

/// The model of a finished run: built from its config, adapted as its `[peft]` says, with
/// `model.bpk` (and `gates.bpk` for TauGate) loaded.
pub fn load_run_model<M: PlasticModel>(
    model: M,
    config: &RunConfig,
    run: &Path,
    device: &Device,
) -> Result<(M, Option<GateSet>)> {
    let _ = param_rows(&model); // initialise lazy params before adapting (burn-0.22 §11.7)
    let (model, gates) = match &config.peft {
        Some(peft) => {
            let pattern = match &peft.method {
                crate::peft::PeftMethod::Triadapt(_) => {
                    let path = run.join("rank_pattern.json");
                    let text = std::fs::read_to_string(&path).map_err(|e| TrainError::io(&path, e))?;
                    let pattern: crate::peft::RankPattern =
                        serde_json::from_str(&text).map_err(|e| TrainError::io(&path, e))?;
                    Some(pattern)
                }
                _ => None,
            };
            crate::peft::attach_shaped(model, peft, pattern.as_ref(), device)?
        }
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
    pub merged: PathBuf,
    /// Largest |adapted − merged| logit over the first `checked_examples` test images.
    pub max_abs_diff: f64,
    pub checked_examples: usize,
}

/// Folds a run's adapters into its weights (Burn's `materialize`) and writes `merged.bpk`,
/// checking that the merged model computes the same logits as the adapted one.
pub fn merge_run(run: &Path, config: &RunConfig) -> Result<MergeReport> {
    let raw = load_raw(&config.data)?;
    struct Merge<'a> {
        run: &'a Path,
        test: Arc<ImageSet>,
    }
    impl RunModelTask for Merge<'_> {
        type Output = MergeReport;
        fn run<M: PlasticModel>(self, model: M, gates: Option<GateSet>, device: &Device) -> Result<MergeReport> {
            let n = self.test.len().min(1000);
            let indices: Vec<usize> = (0..n).collect();
            let x = plasticity_data::make_batch(&self.test, &indices, device).images;
            let adapted = logits(&model, &gates, x.clone());
            let merged = model.materialize();
            let max_abs_diff = (adapted - logits(&merged, &gates, x)).abs().max().into_scalar::<f64>();
            let path = self.run.join("merged.bpk");
            let bytes = merged
                .into_record()
                .into_bytes()
                .map_err(|e| TrainError::io(&path, e))?;
            crate::checkpoint::write_atomic(&path, &bytes).map_err(|e| TrainError::io(&path, e))?;
            Ok(MergeReport {
                merged: path,
                max_abs_diff,
                checked_examples: n,
            })
        }
    }
    let test = prepare_test(&raw, &config.data, config.seed)?;
    with_run_model(run, config, Merge { run, test })
}

/// Writes a LoRA or MiSS run in Hugging Face peft format: `<out>/adapter/` (`adapter_model.safetensors`
/// and `adapter_config.json`, with any `modules_to_save`, for `PeftModel.from_pretrained`) and
/// `<out>/base.safetensors` (the frozen base model in PyTorch layout, for `load_state_dict`). Other runs export only the base (merged
/// for IA3 and TriAdaptLoRA, which peft cannot load from our files).
pub fn export_run(run: &Path, config: &RunConfig, out: &Path) -> Result<Vec<PathBuf>> {
    struct Export<'a> {
        config: &'a RunConfig,
        out: &'a Path,
    }
    impl RunModelTask for Export<'_> {
        type Output = Vec<PathBuf>;
        fn run<M: PlasticModel>(self, model: M, _gates: Option<GateSet>, _device: &Device) -> Result<Vec<PathBuf>> {
            use crate::peft::PeftMethod;
            std::fs::create_dir_all(self.out).map_err(|e| TrainError::io(self.out, e))?;
            let adapter = self.out.join("adapter");
            let base = self.out.join("base.safetensors");
            let mut written = Vec::new();
            let options = plasticity_peft::HfOptions {
                modules_to_save: self
                    .config
                    .peft
                    .as_ref()
                    .map(|p| p.modules_to_save.clone())
                    .unwrap_or_default(),
                ..Default::default()
            };
            let exported = match self.config.peft_method() {
                Some(PeftMethod::Lora(c)) => Some(plasticity_peft::hf::export_lora_with(&model, c, &adapter, &options)),
                Some(PeftMethod::Miss(c)) => Some(plasticity_peft::hf::export_miss_with(&model, c, &adapter, &options)),
                _ => None,
            };
            if let Some(result) = exported {
                result.map_err(|e| TrainError::io(&adapter, e))?;
                written.push(adapter);
            }
            let result = match self.config.peft_method() {
                // peft cannot load these adapters from our files: export the merged weights.
                Some(PeftMethod::Ia3(_)) | Some(PeftMethod::Triadapt(_)) => {
                    plasticity_peft::hf::export_base_pytorch(&model.materialize(), &base)
                }
                _ => plasticity_peft::hf::export_base_pytorch(&model, &base),
            };
            result.map_err(|e| TrainError::io(&base, e))?;
            written.push(base);
            Ok(written)
        }
    }
    with_run_model(run, config, Export { config, out })
}
