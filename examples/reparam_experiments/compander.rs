//! experiments/weight-compander: test accuracy with and without the compander (on top of the
//! same weight decay), the gap against 2 standard errors, and weight histograms before and
//! after training.
//!
//! Histograms: every Linear/Conv weight of the first seed's runs, each layer in units of its
//! initial root mean square `s` (the compander's scale), pooled over layers. "Before" is the
//! run's initial model, rebuilt from its config and seed exactly as `plasticity train` builds it
//! (checked against the layer scales the compander saved at attach); "after" is the trained
//! model of each arm, loaded with its methods: its effective weights `W = f(w)` and, for the
//! compander arms, the stored raw weights `w`.

use crate::runs::{Error, Run, Stats, read_runs, write};
use plasticity::burn::module::Module;
use plasticity::burn::tensor::Tensor;
use plasticity::core::{PlasticModel, param_infos, walk_params};
use plasticity::models::WithModel;
use plasticity::plot::{Panel, Series, line_chart};
use plasticity::reparam::target::is_layer_weight;
use plasticity::train::{RunConfig, load_config};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;

const BASELINE: &str = "plain";
const ARMS: [&str; 3] = ["plain", "compander", "compander-learned"];

/// Layer weights by path, flattened.
type Weights = BTreeMap<String, Vec<f32>>;

fn layer_weights<M: Module>(model: &M) -> Weights {
    let mut out = Weights::new();
    walk_params(model, true, |info, value| {
        if is_layer_weight(info)
            && let Some(v) = value.and_then(|v| v.into_data().convert::<f32>().try_into_vec::<f32>().ok())
        {
            out.insert(info.path.clone(), v);
        }
    });
    out
}

/// A run's weights: effective (`W`), stored (`w`), and the compander's saved layer scales.
struct Loaded {
    effective: Weights,
    stored: Weights,
    scales: Option<BTreeMap<String, f64>>,
}

/// The initial model of `config` (as `plasticity train` builds it), or the trained model of
/// `run` loaded with its methods.
struct Load<'a> {
    config: &'a RunConfig,
    run: Option<&'a Path>,
    device: plasticity::burn::tensor::Device,
}

impl WithModel for Load<'_> {
    type Output = Result<Loaded, Error>;
    fn run<M: PlasticModel<Input = Tensor<2>>>(self, model: M) -> Result<Loaded, Error> {
        let _ = param_infos(&model); // initialise the lazy parameters, as the runner does
        let Some(run) = self.run else {
            let weights = layer_weights(&model);
            return Ok(Loaded {
                effective: weights.clone(),
                stored: weights,
                scales: None,
            });
        };
        let (trainee, methods) = plasticity::train::commands::load_run_model(model, self.config, run, &self.device)?;
        let scales = methods
            .iter()
            .find(|m| m.name() == "compander")
            .and_then(|m| serde_json::from_value(m.state().meta["scales"].clone()).ok());
        Ok(Loaded {
            stored: layer_weights(&trainee.model),
            effective: layer_weights(&trainee.model.materialize()),
            scales,
        })
    }
    fn run_tokens<M: PlasticModel<Input = plasticity::core::Tokens>>(self, _model: M) -> Result<Loaded, Error> {
        Err("the compander experiment runs image models".into())
    }
}

fn load(run: &Path, trained: bool) -> Result<Loaded, Error> {
    let config = load_config(&run.join("config.toml"), &[])?;
    let device = plasticity::train::runner::training_device(&config)?;
    let load = Load {
        config: &config,
        run: trained.then_some(run),
        device: device.clone(),
    };
    config.model.build(&device, load)?
}

/// Fraction of the weights per bin of `u = w / s` over [-4, 4] (80 bins), pooled over layers.
fn histogram(weights: &Weights, scales: &BTreeMap<String, f64>) -> Vec<(f64, f64)> {
    const BINS: usize = 80;
    const RANGE: f64 = 4.0;
    let width = 2.0 * RANGE / BINS as f64;
    let mut counts = [0usize; BINS];
    let mut total = 0usize;
    for (path, values) in weights {
        let s = scales[path];
        for &v in values {
            let bin = ((f64::from(v) / s + RANGE) / width).floor();
            if (0.0..BINS as f64).contains(&bin) {
                counts[bin as usize] += 1;
            }
            total += 1;
        }
    }
    (0..BINS)
        .map(|i| (-RANGE + (i as f64 + 0.5) * width, counts[i] as f64 / total.max(1) as f64))
        .collect()
}

fn rms(values: &[f32]) -> f64 {
    (values.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / values.len().max(1) as f64).sqrt()
}

/// Test accuracy of each run of `arm` minus that of the `baseline` run with the same seed.
fn paired_differences(arm: &[Run], baseline: &[Run]) -> Vec<f64> {
    arm.iter()
        .filter_map(|r| {
            let b = baseline.iter().find(|b| b.seed == r.seed)?;
            Some(r.test_accuracy()? - b.test_accuracy()?)
        })
        .collect()
}

/// The histogram PNG of one model from the first seed of each arm.
fn histograms(model: &str, first: &BTreeMap<&str, &Run>, png: &Path) -> Result<(), Error> {
    let baseline = first.get(BASELINE).ok_or("no plain run")?;
    let init = load(&baseline.dir, false)?.effective;
    let scales: BTreeMap<String, f64> = init.iter().map(|(p, v)| (p.clone(), rms(v))).collect();
    let mut effective = vec![Series {
        name: "init".into(),
        points: histogram(&init, &scales),
    }];
    let mut stored = Vec::new();
    for (arm, run) in first {
        let loaded = load(&run.dir, true)?;
        if let Some(saved) = &loaded.scales {
            for (path, s) in saved {
                let ours = scales.get(path).copied().unwrap_or(f64::NAN);
                if (ours - s).abs() > 1e-6 * s {
                    return Err(format!(
                        "{}: the rebuilt initial model has scale {ours} for {path}, the compander saved {s}",
                        run.dir.display()
                    )
                    .into());
                }
            }
            let init_run = load(&run.dir, false)?;
            if init_run.effective != init {
                return Err(format!("{}: another initial model than the plain run's", run.dir.display()).into());
            }
            stored.push(Series {
                name: format!("{arm} w"),
                points: histogram(&loaded.stored, &scales),
            });
        }
        effective.push(Series {
            name: format!("{arm} W"),
            points: histogram(&loaded.effective, &scales),
        });
    }
    let compander = plasticity::reparam::CompanderForm::default().function();
    let theta: Vec<f64> = compander.parameters().iter().map(|(_, t)| *t).collect();
    let raw_init: Weights = init
        .iter()
        .map(|(p, v)| {
            let s = scales[p];
            (p.clone(), v.iter().map(|&x| (s * compander.inverse(f64::from(x) / s, &theta)) as f32).collect())
        })
        .collect();
    stored.insert(
        0,
        Series {
            name: "init w = f^-1(W)".into(),
            points: histogram(&raw_init, &scales),
        },
    );
    let panel = |title: &str, series| Panel {
        title: format!("{model}: {title}"),
        x_label: "weight / initial layer RMS".into(),
        y_label: "fraction of weights".into(),
        series,
    };
    let panels = [panel("effective weights W", effective), panel("stored raw weights w", stored)];
    line_chart(png, &panels, 620, 420).map_err(|e| format!("{}: {e}", png.display()).into())
}

pub fn aggregate(dir: &Path) -> Result<(), Error> {
    let runs = read_runs(dir)?;
    let mut models: Vec<String> = runs.keys().map(|(m, _)| m.clone()).collect();
    models.dedup();
    let mut table = serde_json::Map::new();
    let mut lines = vec![
        "| model | arm | test acc (%) | gap vs plain (pp) | 2 SE of the gap (pp) | gap > 2 SE | paired gap ± 2 SE (pp) | final train acc (%) | final train loss |".to_string(),
        "|---|---|---|---|---|---|---|---|---|".to_string(),
    ];
    for model in &models {
        let get = |arm: &str| runs.get(&(model.clone(), arm.to_string()));
        let test = |runs: &[Run]| Stats::of(&runs.iter().filter_map(Run::test_accuracy).collect::<Vec<_>>());
        let last = |runs: &[Run], key: &str| Stats::of(&runs.iter().filter_map(|r| r.epochs(key).last().copied()).collect::<Vec<_>>());
        let baseline = get(BASELINE).and_then(|r| test(r));
        let mut first = BTreeMap::new();
        for arm in ARMS {
            let Some(arm_runs) = get(arm) else { continue };
            first.insert(arm, &arm_runs[0]);
            let acc = test(arm_runs).ok_or("no test accuracy")?;
            let (gap, two_se) = match (arm == BASELINE, baseline) {
                (false, Some(b)) => (Some(acc.mean - b.mean), Some(2.0 * (acc.se().powi(2) + b.se().powi(2)).sqrt())),
                _ => (None, None),
            };
            let significant = gap.zip(two_se).map(|(g, t)| g.abs() > t);
            let paired = match (arm == BASELINE, get(BASELINE)) {
                (false, Some(base)) => Stats::of(&paired_differences(arm_runs, base)),
                _ => None,
            };
            let (train_acc, train_loss) = (last(arm_runs, "train_accuracy"), last(arm_runs, "train_loss"));
            table.insert(
                format!("{model}/{arm}"),
                json!({
                    "test_accuracy": acc,
                    "gap_vs_plain": gap,
                    "two_standard_errors_of_gap": two_se,
                    "gap_exceeds_two_standard_errors": significant,
                    "paired_gap": paired.map(|p| json!({"mean": p.mean, "two_standard_errors": 2.0 * p.se(), "n": p.n})),
                    "final_train_accuracy": train_acc,
                    "final_train_loss": train_loss,
                    "seeds": arm_runs.iter().map(|r| r.seed).collect::<Vec<_>>(),
                    "test_accuracy_per_seed": arm_runs.iter().map(Run::test_accuracy).collect::<Vec<_>>(),
                }),
            );
            let pp = |v: Option<f64>| v.map_or("–".into(), |v| format!("{:+.2}", 100.0 * v));
            lines.push(format!(
                "| {model} | {arm} | {} | {} | {} | {} | {} | {} | {} |",
                acc.show(100.0, 2),
                pp(gap),
                two_se.map_or("–".into(), |t| format!("{:.2}", 100.0 * t)),
                significant.map_or("–", |s| if s { "yes" } else { "no" }),
                paired.map_or("–".into(), |p| format!("{:+.2} ± {:.2}", 100.0 * p.mean, 200.0 * p.se())),
                train_acc.map_or("–".into(), |s| s.show(100.0, 2)),
                train_loss.map_or("–".into(), |s| s.show(1.0, 4)),
            ));
        }
        histograms(model, &first, &dir.join(format!("weights-{model}.png")))?;
    }
    let n = runs.values().map(Vec::len).max().unwrap_or(0);
    write(&dir.join("results.json"), &serde_json::to_string_pretty(&table)?)?;
    let md = format!(
        "Mean ± std over {n} seeds; test accuracy on the 10,000 MNIST test images; the gap's standard error is \
         √(SE₁² + SE₂²). The paired gap is the mean over seeds of (arm − plain) for the same seed (the same \
         initial function f(w) and data order), with 2 standard errors of that mean. Generated by `examples/reparam_experiments` from the runs' results.json.\n\n{}\n\n\
         Weight histograms (first seed): {}.\n",
        lines.join("\n"),
        models.iter().map(|m| format!("`weights-{m}.png`")).collect::<Vec<_>>().join(", ")
    );
    write(&dir.join("results.md"), &md)?;
    print!("{md}");
    Ok(())
}
