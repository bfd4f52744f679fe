//! Subcommands. Each one reads flags, calls a library function and prints its result.

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use plasticity_train::{RunConfig, RunOptions, StopSignal};
use std::path::PathBuf;

/// plasticity: brain-inspired ways to adapt neural networks (PEFT, reparameterizations,
/// continual learning, pruning), trained with Burn.
///
/// Every run is described by one TOML config file (see configs/ for examples). Start with:
///
///     plasticity train configs/quickstart.toml
#[derive(Parser)]
#[command(name = "plasticity", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// More log output on stderr (-v info, -vv debug). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Only errors on stderr, and no per-epoch lines on stdout.
    #[arg(short, long, global = true)]
    quiet: bool,
}

impl Cli {
    pub fn verbosity(&self) -> i8 {
        if self.quiet { -1 } else { self.verbose.min(3) as i8 }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Train a model as a config file describes, writing a run directory with results.json,
    /// curves.png, the final model (model.bpk), per-epoch checkpoints and a log.
    Train(TrainArgs),
    /// Train one model on the tasks of [continual.stream] in turn (work in progress), writing
    /// task-<k>/ run directories and results.json with the accuracy matrix and its metrics.
    Continual(TrainArgs),
    /// Evaluate a finished run's model on its test set, or on other data (--set data.…).
    Eval(EvalArgs),
    /// Print the parameter table of the model a config builds, or of a finished run (--run):
    /// path, shape, count, trainable, role (base, adapter, a method's own).
    Inspect(InspectArgs),
    /// Fold a run's adapters and weight reparameterizations ([peft], [reparam]) into plain
    /// weights (merged.bpk), checking the outputs match.
    Merge(EvalArgs),
    /// Write a run for PyTorch: the base model as PyTorch-layout safetensors, LoRA/MiSS
    /// adapters in Hugging Face peft format (load with PeftModel.from_pretrained), and a
    /// weight-norm model with torch.nn.utils.parametrizations names (weight_norm.safetensors).
    Export(ExportArgs),
    /// Write the sentence embeddings of a finished text run (the pooled encoder output its head
    /// reads) for the lines of a text file, as JSON.
    Embed(EmbedArgs),
    /// Prune a finished run one-shot (magnitude, SNIP or SynFlow on its trained weights) into a
    /// new run directory, fine-tuning with the mask fixed for --finetune-epochs.
    Prune(PruneArgs),
    /// Get or check datasets.
    #[command(subcommand)]
    Data(DataCommand),
}

/// Flags shared by commands that read a config. A flag beats the config file, which beats the
/// environment (PLASTICITY_DATA for data.data_dir, PLASTICITY_DEVICE for device).
#[derive(Args, Default)]
struct Overrides {
    /// Override any config key, e.g. --set optimizer.lr=0.01 --set train.epochs=3 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Seed for initialisation, data split, transforms and shuffling (same as --set seed=N).
    #[arg(long)]
    seed: Option<u64>,
    /// Backend: flex, ndarray, wgpu[:N] or cuda[:N], among those compiled in.
    #[arg(long)]
    device: Option<String>,
    /// Directory holding the full datasets (the folder with mnist/ inside).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

impl Overrides {
    fn all(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(seed) = self.seed {
            out.push(format!("seed={seed}"));
        }
        if let Some(device) = &self.device {
            out.push(format!("device=\"{device}\""));
        }
        if let Some(dir) = &self.data_dir {
            out.push(format!("data.data_dir={}", toml_string(&dir.display().to_string())));
        }
        out.extend(self.set.iter().cloned());
        out
    }
}

fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[derive(Args)]
#[command(after_help = "Examples:
  plasticity train configs/quickstart.toml
  plasticity train configs/mnist-mlp.toml --data-dir ../shared/data
  plasticity train configs/quickstart.toml --seed 3 --set optimizer.lr=3e-3 --set train.epochs=4
  plasticity train configs/quickstart.toml --resume

Ctrl-C once finishes the current epoch and writes its checkpoint; twice stops at once.
A flag beats the config file, which beats PLASTICITY_DATA / PLASTICITY_DEVICE.")]
struct TrainArgs {
    /// The run's TOML config file.
    config: PathBuf,
    /// Continue the run in the config's output directory from its last complete checkpoint.
    #[arg(long)]
    resume: bool,
    /// Where to write the run directory (default runs/<name>).
    #[arg(long, value_name = "DIR")]
    output_dir: Option<PathBuf>,
    #[command(flatten)]
    overrides: Overrides,
}

#[derive(Args)]
#[command(after_help = "Examples:
  plasticity eval --run runs/quickstart
  plasticity eval --run runs/quickstart --set data.rotate_degrees=45     # the same model on rotated digits
  plasticity eval --run runs/mnist-mlp --data-dir ../shared/data")]
struct EvalArgs {
    /// A run directory written by `plasticity train` (holds config.toml and model.bpk).
    #[arg(long, value_name = "DIR")]
    run: PathBuf,
    #[command(flatten)]
    overrides: Overrides,
}

#[derive(Args)]
struct ExportArgs {
    #[command(flatten)]
    run: EvalArgs,
    /// Output directory (default <run>/export): adapter/ and base.safetensors.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

#[derive(Args)]
#[command(after_help = "Examples:
  plasticity embed --run runs/minilm-lora --texts sentences.txt --out embeddings.json

Each line of the file is one text (empty lines too); the JSON holds `texts` and `embeddings`
(one row of floats per text, in order).")]
struct EmbedArgs {
    #[command(flatten)]
    run: EvalArgs,
    /// A UTF-8 text file, one text per line.
    #[arg(long, value_name = "FILE")]
    texts: PathBuf,
    /// Where to write the JSON (default: standard output).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Args)]
#[command(after_help = "Examples:
  plasticity prune --run runs/mnist-mlp --method magnitude --sparsity 0.9 --finetune-epochs 5
  plasticity prune --run runs/mnist-mlp --method synflow --sparsity 0.98 --out runs/mlp-synflow-98

The new run starts from the run's final model, prunes it before the first step and trains it
with the mask fixed (the run's optimizer and data, the schedule over the fine-tuning epochs);
with --finetune-epochs 0 (the default) the pruned model is only evaluated.")]
struct PruneArgs {
    /// A finished run directory (holds config.toml and model.bpk).
    #[arg(long, value_name = "DIR")]
    run: PathBuf,
    /// magnitude (global, torch.prune's counts), snip or synflow.
    #[arg(long)]
    method: String,
    /// Fraction of the prunable weights to remove, in [0, 1).
    #[arg(long, allow_hyphen_values = true)]
    sparsity: String,
    /// Epochs of fine-tuning with the mask fixed.
    #[arg(long, default_value_t = 0)]
    finetune_epochs: usize,
    /// The new run directory (default <run>-<method>-<sparsity>).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    overrides: Overrides,
}

#[derive(Args)]
#[command(after_help = "Examples:
  plasticity inspect configs/quickstart.toml                 # a fresh model with the config's methods
  plasticity inspect --run runs/quickstart                   # a finished run's trained model")]
struct InspectArgs {
    /// The run's TOML config file (builds a fresh model).
    #[arg(required_unless_present = "run", conflicts_with = "run")]
    config: Option<PathBuf>,
    /// A finished run directory: its trained model, with each method's rows.
    #[arg(long, value_name = "DIR")]
    run: Option<PathBuf>,
    #[command(flatten)]
    overrides: Overrides,
}

#[derive(Subcommand)]
enum DataCommand {
    /// Download a dataset's canonical files (needs internet) and check their md5 sums.
    Fetch {
        /// Dataset name: mnist.
        dataset: String,
        /// Destination (files go to DIR/mnist/); default: $PLASTICITY_DATA or ./data.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Describe the bundled subset and check the files in a data directory.
    Info {
        /// Data directory to check; default: $PLASTICITY_DATA.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

pub fn run(cli: Cli) -> Result<()> {
    let quiet = cli.quiet;
    match cli.command {
        Command::Train(args) => train(args, quiet),
        Command::Continual(args) => continual(args, quiet),
        Command::Eval(args) => eval(args),
        Command::Inspect(args) => inspect(args),
        Command::Merge(args) => merge(args),
        Command::Export(args) => export(args),
        Command::Embed(args) => embed(args),
        Command::Prune(args) => prune(args, quiet),
        Command::Data(cmd) => data(cmd),
    }
}

fn prune(args: PruneArgs, quiet: bool) -> Result<()> {
    let sparsity: f64 = args
        .sparsity
        .parse()
        .map_err(|_| anyhow::anyhow!("--sparsity: expected a fraction in [0, 1), got `{}`", args.sparsity))?;
    let base = run_config(&EvalArgs {
        run: args.run.clone(),
        overrides: args.overrides,
    })?;
    let config = plasticity_train::prune::prune_config(&args.run, base, &args.method, sparsity, args.finetune_epochs, args.out)?;
    let opts = RunOptions {
        resume: false,
        signal: StopSignal::new(),
        quiet,
    };
    let summary = plasticity_train::train(&config, &opts)?;
    let accuracy = summary.results.test.map_or("–".into(), |t| format!("{:.4}", t.accuracy));
    println!(
        "pruned by {} to sparsity {sparsity}, fine-tuned {} epochs: test accuracy {accuracy}; run directory {}",
        args.method,
        args.finetune_epochs,
        summary.dir.display()
    );
    Ok(())
}

fn load(config: &std::path::Path, overrides: &Overrides, extra: &[String]) -> Result<RunConfig> {
    let mut all = overrides.all();
    all.extend(extra.iter().cloned());
    Ok(plasticity_train::load_config(config, &all)?)
}

/// The config and run options of `train` and `continual`, with the Ctrl-C handler installed.
fn launch(args: &TrainArgs, quiet: bool) -> Result<(RunConfig, RunOptions)> {
    let extra: Vec<String> = args
        .output_dir
        .iter()
        .map(|d| format!("output_dir={}", toml_string(&d.display().to_string())))
        .collect();
    let config = load(&args.config, &args.overrides, &extra)?;
    let signal = StopSignal::new();
    let handler_signal = signal.clone();
    ctrlc::set_handler(move || {
        if handler_signal.press() == 1 {
            eprintln!("\nCtrl-C: finishing this epoch and writing its checkpoint; press Ctrl-C again to stop now");
        }
    })
    .context("installing the Ctrl-C handler")?;
    let opts = RunOptions {
        resume: args.resume,
        signal,
        quiet,
    };
    Ok((config, opts))
}

fn continual(args: TrainArgs, quiet: bool) -> Result<()> {
    let (config, opts) = launch(&args, quiet)?;
    let summary = plasticity_train::continual::train_stream(&config, &opts)?;
    match &summary.metrics {
        Some(m) => println!(
            "{} tasks: average accuracy {:.4}, BWT {}, forgetting (Avalanche) {}; run directory {}",
            summary.tasks.len(),
            m.average_accuracy,
            m.backward_transfer.map_or("–".into(), |b| format!("{b:+.4}")),
            m.forgetting_avalanche.map_or("–".into(), |f| format!("{f:.4}")),
            summary.dir.display()
        ),
        None => {
            let a = &summary.new_task_accuracy;
            let last = a.len().saturating_sub(10);
            let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len().max(1) as f64;
            println!(
                "{} tasks: new-task accuracy {:.4} on the first 10, {:.4} on the last 10; run directory {}",
                summary.tasks.len(),
                mean(&a[..a.len().min(10)]),
                mean(&a[last..]),
                summary.dir.display()
            )
        }
    }
    Ok(())
}

fn train(args: TrainArgs, quiet: bool) -> Result<()> {
    let (config, opts) = launch(&args, quiet)?;
    let summary = plasticity_train::train(&config, &opts)?;
    let r = &summary.results;
    if let Some(reason) = &r.stopped {
        println!("stopped early: {reason}");
    }
    match r.test {
        Some(t) => println!(
            "test accuracy {:.4} (loss {:.4}, {} examples); {:.1} s; run directory {}",
            t.accuracy,
            t.loss,
            t.examples,
            r.wall_seconds,
            summary.dir.display()
        ),
        None => println!(
            "done in {:.1} s; run directory {}",
            r.wall_seconds,
            summary.dir.display()
        ),
    }
    Ok(())
}

fn eval(args: EvalArgs) -> Result<()> {
    let config = run_config(&args)?;
    let eval = plasticity_train::commands::evaluate_run(&args.run, &config)?;
    println!("{}", serde_json::to_string(&eval)?);
    Ok(())
}

fn run_config(args: &EvalArgs) -> Result<RunConfig> {
    let config_path = args.run.join("config.toml");
    if !config_path.exists() {
        bail!(
            "{} has no config.toml; pass a run directory written by `plasticity train`",
            args.run.display()
        );
    }
    load(&config_path, &args.overrides, &[])
}

fn merge(args: EvalArgs) -> Result<()> {
    let config = run_config(&args)?;
    if !config.has_methods() {
        bail!(
            "{} was trained without methods (its config has no method table); its model.bpk is already plain",
            args.run.display()
        );
    }
    let report = plasticity_train::commands::merge_run(&args.run, &config)?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

fn export(args: ExportArgs) -> Result<()> {
    let config = run_config(&args.run)?;
    let out = args.out.unwrap_or_else(|| args.run.run.join("export"));
    for path in plasticity_train::commands::export_run(&args.run.run, &config, &out)? {
        let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        println!("wrote {} ({bytes} bytes)", path.display());
    }
    Ok(())
}

fn embed(args: EmbedArgs) -> Result<()> {
    let config = run_config(&args.run)?;
    let text = std::fs::read_to_string(&args.texts).with_context(|| format!("--texts {}", args.texts.display()))?;
    let texts: Vec<String> = text.lines().map(str::to_string).collect();
    if texts.is_empty() {
        bail!("--texts {}: no lines to embed", args.texts.display());
    }
    let embeddings = plasticity_train::commands::embed_run(&args.run.run, &config, &texts)?;
    let json = serde_json::to_string(&serde_json::json!({ "texts": texts, "embeddings": embeddings }))?;
    match &args.out {
        Some(path) => plasticity_core::files::write_atomic(path, json.as_bytes()).with_context(|| format!("--out {}", path.display()))?,
        None => println!("{json}"),
    }
    Ok(())
}

fn inspect(args: InspectArgs) -> Result<()> {
    let table = match (&args.run, &args.config) {
        (Some(run), _) => {
            let config = run_config(&EvalArgs {
                run: run.clone(),
                overrides: args.overrides,
            })?;
            plasticity_train::commands::inspect_run(run, &config)?
        }
        (None, Some(config)) => plasticity_train::commands::inspect(&load(config, &args.overrides, &[])?)?,
        (None, None) => bail!("give a config file or --run DIR"),
    };
    print!("{table}");
    Ok(())
}

fn data(cmd: DataCommand) -> Result<()> {
    let env_dir = || std::env::var_os(plasticity_data::DATA_DIR_ENV).map(PathBuf::from);
    match cmd {
        DataCommand::Fetch { dataset, dir } => {
            if dataset != "mnist" {
                bail!("unknown dataset `{dataset}`; available: mnist");
            }
            let dest = dir.or_else(env_dir).unwrap_or_else(|| PathBuf::from("data"));
            let files = plasticity_data::fetch_mnist(&dest)?;
            for f in files {
                println!("ok {}", f.display());
            }
            Ok(())
        }
        DataCommand::Info { dir } => {
            println!("{}", plasticity_data::BUNDLED_DESCRIPTION);
            match dir.or_else(env_dir) {
                Some(dir) => println!("{}", plasticity_data::describe_mnist_dir(&dir)),
                None => println!("no data directory given (--dir or PLASTICITY_DATA)"),
            }
            Ok(())
        }
    }
}
