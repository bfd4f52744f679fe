//! Library side of `plasticity eval`, `inspect`, `merge` and `export`. Methods are reached
//! only through the Method API: a finished run is loaded by restoring its methods' state,
//! attaching them and loading the files they wrote ([`load_run`]).

use crate::artifacts::load_run;
use crate::config::RunConfig;
use crate::inputs::RunInput;
use crate::device::parse_device;
use crate::error::{Result, TrainError};
use crate::params::{census, format_table};
use crate::trainee::{Methods, Trainee, method_error};
use burn::tensor::{Device, Tensor};
use plasticity_core::files::write_verified;
use plasticity_core::{AttachContext, Evaluation, Forward, Mode, PlasticModel, Tokens, evaluate, param_infos};
use plasticity_models::WithModel;
use std::path::{Path, PathBuf};

/// Code run on a finished run's model, built from its config and loaded (see [`with_run_model`]).
pub trait RunModelTask {
    type Output;
    fn run<M: PlasticModel>(self, trainee: Trainee<M>, methods: Methods<M>, device: &Device) -> Result<Self::Output>
    where
        M::Input: RunInput;
}

/// The config's device, without autodiff.
fn inference_device(config: &RunConfig) -> Result<Device> {
    parse_device(&config.device)
        .and_then(|choice| choice.open())
        .map_err(|e| TrainError::Device(e.to_string()))
}

/// Builds the model of `run` as `config` describes it, loads it with its methods on the
/// config's device (without autodiff) and hands it to `task`.
pub fn with_run_model<T: RunModelTask>(run: &Path, config: &RunConfig, task: T) -> Result<T::Output> {
    with_run_model_on(run, config, task, inference_device(config)?)
}

fn with_run_model_on<T: RunModelTask>(run: &Path, config: &RunConfig, task: T, device: Device) -> Result<T::Output> {
    struct Loaded<'a, T> {
        run: &'a Path,
        config: &'a RunConfig,
        task: T,
        device: Device,
    }
    impl<T: RunModelTask> Loaded<'_, T> {
        fn go<M: PlasticModel>(self, model: M) -> Result<T::Output>
        where
            M::Input: RunInput,
        {
            let (trainee, methods) = load_run_model(model, self.config, self.run, &self.device)?;
            self.task.run(trainee, methods, &self.device)
        }
    }
    impl<T: RunModelTask> WithModel for Loaded<'_, T> {
        type Output = Result<T::Output>;
        fn run<M: PlasticModel<Input = Tensor<2>>>(self, model: M) -> Result<T::Output> {
            self.go(model)
        }
        fn run_tokens<M: PlasticModel<Input = Tokens>>(self, model: M) -> Result<T::Output> {
            self.go(model)
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
    )?
}

/// [`load_run`] with the methods of `config` (a finished run's own `config.toml`).
pub fn load_run_model<M: PlasticModel>(
    model: M,
    config: &RunConfig,
    run: &Path,
    device: &Device,
) -> Result<(Trainee<M>, Methods<M>)> {
    load_run(model, Methods::new(config.methods())?, run, device)
}

/// The forward pass of a loaded run, as evaluated (every method's evaluation hooks).
fn eval_forward(steps: u64) -> Forward {
    Forward {
        mode: Mode::Eval,
        step: steps,
    }
}

/// Evaluates `<run>/model.bpk` on the test split described by `config` (the run's own
/// `config.toml`, possibly with overrides such as another rotation).
pub fn evaluate_run(run: &Path, config: &RunConfig) -> Result<Evaluation> {
    struct Eval<'a>(&'a RunConfig);
    impl RunModelTask for Eval<'_> {
        type Output = Evaluation;
        fn run<M: PlasticModel>(self, trainee: Trainee<M>, methods: Methods<M>, device: &Device) -> Result<Evaluation>
        where
            M::Input: RunInput,
        {
            let test = M::Input::test_set(self.0)?;
            let forward = |x| methods.forward(&trainee, x, eval_forward(0));
            Ok(evaluate(forward, test.as_ref(), self.0.train.eval_batch_size, device))
        }
    }
    with_run_model(run, config, Eval(config))
}

/// The `[texts, d]` features ([`PlasticModel::features`]: a text encoder's pooled sentence
/// embeddings) of `<run>/model.bpk` for `texts`, computed as in evaluation (every method's hooks),
/// in batches of `train.eval_batch_size`.
pub fn embed_run(run: &Path, config: &RunConfig, texts: &[String]) -> Result<Vec<Vec<f32>>> {
    struct Embed<'a>(&'a RunConfig, &'a [String]);
    impl RunModelTask for Embed<'_> {
        type Output = Vec<Vec<f32>>;
        fn run<M: PlasticModel>(self, trainee: Trainee<M>, methods: Methods<M>, device: &Device) -> Result<Vec<Vec<f32>>>
        where
            M::Input: RunInput,
        {
            let set = M::Input::from_texts(self.0, self.1)?;
            let indices: Vec<usize> = (0..set.len()).collect();
            let mut rows = Vec::with_capacity(set.len());
            for chunk in indices.chunks(self.0.train.eval_batch_size.max(1)) {
                let batch = set.batch(chunk, device);
                let features = methods
                    .features(&trainee, batch.input, eval_forward(0))
                    .ok_or_else(|| TrainError::config("model.kind", "this model has no features to embed (a [model] kind = \"bert\" has)"))?;
                let [_, d] = features.dims();
                let values = features.into_data().convert::<f32>().try_into_vec::<f32>().map_err(|e| TrainError::Run(format!("features: {e:?}")))?;
                rows.extend(values.chunks(d).map(<[f32]>::to_vec));
            }
            Ok(rows)
        }
    }
    with_run_model(run, config, Embed(config, texts))
}

/// The parameter table of the model `config` builds, with its methods attached.
pub fn inspect(config: &RunConfig) -> Result<String> {
    // On the autodiff device, as for training: trainability is a property of tracked tensors.
    let device = crate::runner::training_device(config)?;
    struct Table<'a>(&'a RunConfig, Device);
    impl WithModel for Table<'_> {
        type Output = Result<String>;
        fn run<M: PlasticModel<Input = Tensor<2>>>(self, model: M) -> Result<String> {
            self.go(model)
        }
        fn run_tokens<M: PlasticModel<Input = Tokens>>(self, model: M) -> Result<String> {
            self.go(model)
        }
    }
    impl Table<'_> {
        fn go<M: PlasticModel>(self, model: M) -> Result<String> {
            let _ = param_infos(&model);
            let mut methods = Methods::new(self.0.methods())?;
            let cx = AttachContext {
                device: &self.1,
                total_steps: 0,
                run_dir: None,
            };
            let trainee = methods.attach(model, &cx)?;
            Ok(format_table(&census(&trainee, &methods)))
        }
    }
    config.model.build(&device.clone(), Table(config, device))?
}

/// The parameter table of a finished run (its trained model, with each method's rows).
pub fn inspect_run(run: &Path, config: &RunConfig) -> Result<String> {
    struct Table;
    impl RunModelTask for Table {
        type Output = String;
        fn run<M: PlasticModel>(self, trainee: Trainee<M>, methods: Methods<M>, _: &Device) -> Result<String>
        where
            M::Input: RunInput,
        {
            Ok(format!("{}{}", format_table(&census(&trainee, &methods)), density_table(&trainee.model)))
        }
    }
    // Trainability is a property of tracked tensors: load on the autodiff device.
    with_run_model_on(run, config, Table, crate::runner::training_device(config)?)
}

/// What `plasticity merge` did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MergeReport {
    /// The file written: the model with every reparameterization folded into plain weights
    /// (Burn's `materialize`). Activation-space methods (TauGate) keep their own files and run
    /// on top of it.
    pub merged: PathBuf,
    /// Largest |adapted − merged| logit over the first `checked_examples` test images.
    pub max_abs_diff: f64,
    pub checked_examples: usize,
}

/// Folds a run's adapters into its weights and writes `merged.bpk`, checking that the merged
/// model computes the same logits as the adapted one.
pub fn merge_run(run: &Path, config: &RunConfig) -> Result<MergeReport> {
    struct Merge<'a> {
        run: &'a Path,
        config: &'a RunConfig,
    }
    impl RunModelTask for Merge<'_> {
        type Output = MergeReport;
        fn run<M: PlasticModel>(self, trainee: Trainee<M>, methods: Methods<M>, device: &Device) -> Result<MergeReport>
        where
            M::Input: RunInput,
        {
            let test = M::Input::test_set(self.config)?;
            let n = test.len().min(1000);
            let indices: Vec<usize> = (0..n).collect();
            let x = test.batch(&indices, device).input;
            let adapted = methods.forward(&trainee, x.clone(), eval_forward(0));
            let merged = Trainee {
                model: trainee.model.materialize(),
                modules: trainee.modules,
            };
            let diff = adapted - methods.forward(&merged, x, eval_forward(0));
            let max_abs_diff = diff.abs().max().into_scalar::<f64>();
            let path = self.run.join("merged.bpk");
            let bytes = merged.model.into_record().into_bytes().map_err(|e| TrainError::io(&path, e))?;
            write_verified(&path, &bytes).map_err(|e| TrainError::io(&path, e))?;
            Ok(MergeReport {
                merged: path,
                max_abs_diff,
                checked_examples: n,
            })
        }
    }
    with_run_model(run, config, Merge { run, config })
}

/// Writes a run for PyTorch: each method's own files (LoRA and MiSS adapters in Hugging Face
/// peft format under `<out>/adapter/`, a weight-normalized model with PyTorch's
/// parametrization names), and `<out>/base.safetensors`, the base model in PyTorch layout with
/// the weights a method asks to bake at their effective values (IA3 and TriAdaptLoRA, which peft
/// cannot load from our files; weight normalization and the compander).
pub fn export_run(run: &Path, config: &RunConfig, out: &Path) -> Result<Vec<PathBuf>> {
    struct Export<'a> {
        out: &'a Path,
    }
    impl RunModelTask for Export<'_> {
        type Output = Vec<PathBuf>;
        fn run<M: PlasticModel>(self, trainee: Trainee<M>, methods: Methods<M>, _: &Device) -> Result<Vec<PathBuf>>
        where
            M::Input: RunInput,
        {
            std::fs::create_dir_all(self.out).map_err(|e| TrainError::io(self.out, e))?;
            let mut written = Vec::new();
            let mut bake = Vec::new();
            for m in methods.iter() {
                let export = m.export(&trainee.model, self.out).map_err(|e| method_error(&m.name(), e))?;
                written.extend(export.written);
                bake.extend(export.bake);
            }
            let base = self.out.join("base.safetensors");
            plasticity_peft::hf::export_base_pytorch_baking(&trainee.model, &bake, &base)
                .map_err(|e| TrainError::io(&base, e))?;
            written.push(base);
            Ok(written)
        }
    }
    with_run_model(run, config, Export { out })
}

/// Every Linear/Conv weight's nonzero count against its size (a pruned run's per-layer density),
/// and the total; empty when every weight is dense.
fn density_table<M: PlasticModel>(model: &M) -> String {
    let mut rows = Vec::new();
    plasticity_core::walk_params(model, true, |info, value| {
        let layer = info.adapter.is_none() && info.path.ends_with("weight") && ["Struct:Linear", "Struct:Conv2d"].contains(&info.owner.as_str());
        if let (true, Some(v)) = (layer, value.and_then(|v| v.into_data().convert::<f32>().try_into_vec::<f32>().ok())) {
            rows.push((info.path.clone(), v.iter().filter(|&&x| x != 0.0).count(), v.len()));
        }
    });
    let (nnz, total) = rows.iter().fold((0, 0), |(a, b), r| (a + r.1, b + r.2));
    if nnz == total {
        return String::new();
    }
    let mut out = String::from("\nweight densities (nonzero / total)\n");
    for (path, k, n) in rows.iter().chain(std::iter::once(&("all".to_string(), nnz, total))) {
        out.push_str(&format!("  {path:<24} {k:>10} / {n:<10} {:>7.4}\n", *k as f64 / *n as f64));
    }
    out
}
