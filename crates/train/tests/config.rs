//! Config parsing: errors name the key, the line and what was expected; precedence is
//! flag (--set) > config file > environment.

use plasticity_core::optim::OptimizerConfig;
use plasticity_train::config::Dataset;
use plasticity_train::parse_config;

fn err(text: &str, overrides: &[&str]) -> String {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    parse_config(text, "run.toml", &overrides).unwrap_err().to_string()
}

#[test]
fn defaults_are_the_documented_ones() {
    let c = parse_config("", "run.toml", &[]).unwrap();
    assert_eq!(c.seed, 42);
    assert_eq!(c.device, "flex");
    assert_eq!(c.data.dataset, Dataset::MnistBundled);
    assert_eq!(c.data.valid_size, 5000);
    let OptimizerConfig::Adam(adam) = &c.optimizer else {
        panic!("default optimizer is Adam: {:?}", c.optimizer)
    };
    assert_eq!(adam.eps, 1e-8); // PyTorch's, not Burn's 1e-5
    assert_eq!(adam.lr, 1e-3);
    assert_eq!((c.train.epochs, c.train.batch_size), (10, 128));
}

#[test]
fn unknown_key_names_key_line_and_column() {
    let e = err("seed = 1\n[train]\nepochs = 2\nbatchsize = 3\n", &[]);
    assert!(e.starts_with("run.toml:4:1: unknown field `batchsize`"), "{e}");
    assert!(e.contains("`batch_size`"), "{e}");
    let e = err("[model]\nkind = \"mlp\"\nwidths = [3]\n", &[]);
    assert!(e.contains("unknown field `widths`") && e.contains("`hidden`"), "{e}");
    let e = err("[model]\nkind = \"transformer\"\n", &[]);
    assert!(e.contains("transformer") && e.contains("mlp"), "{e}");
}

#[test]
fn wrong_type_and_invalid_value() {
    let e = err("[optimizer]\nkind = \"adam\"\nlr = \"fast\"\n", &[]);
    assert!(e.starts_with("run.toml:3:6:") && e.contains("expected f64"), "{e}");
    let e = err("[data]\nrotate_fraction = 1.5\n", &[]);
    assert_eq!(e, "run.toml:2: data.rotate_fraction: must be in [0, 1], got 1.5");
    let e = err("device = \"tpu\"\n", &[]);
    assert!(e.contains("unknown device `tpu`"), "{e}");
}

#[test]
fn overrides_beat_file_and_are_blamed() {
    let c = parse_config(
        "seed = 1\n[train]\nepochs = 2\n",
        "run.toml",
        &["train.epochs=5".into(), "seed=9".into()],
    )
    .unwrap();
    assert_eq!((c.seed, c.train.epochs), (9, 5));
    let c = parse_config(
        "",
        "run.toml",
        &["model.hidden=[32, 16]".into(), "name=plain-word".into()],
    )
    .unwrap();
    assert_eq!(c.name, "plain-word");
    let e = err("", &["train.epochs=many"]);
    assert!(
        e.starts_with("--set train.epochs=many:") && e.contains("expected usize"),
        "{e}"
    );
    let e = err("", &["nonsense"]);
    assert!(e.contains("not key=value"), "{e}");
}

/// The environment fills keys that neither the file nor a flag sets (one test owns the variable).
#[test]
fn environment_is_the_last_resort() {
    // SAFETY: no other test in this binary reads or writes PLASTICITY_DATA.
    unsafe { std::env::set_var("PLASTICITY_DATA", "/from/env") };
    let from_env = parse_config("", "run.toml", &[]).unwrap();
    let from_file = parse_config("[data]\ndata_dir = \"/from/file\"\n", "run.toml", &[]).unwrap();
    let from_flag = parse_config(
        "[data]\ndata_dir = \"/from/file\"\n",
        "run.toml",
        &["data.data_dir=\"/from/flag\"".into()],
    )
    .unwrap();
    unsafe { std::env::remove_var("PLASTICITY_DATA") };
    assert_eq!(from_env.data.data_dir.unwrap().to_str(), Some("/from/env"));
    assert_eq!(from_file.data.data_dir.unwrap().to_str(), Some("/from/file"));
    assert_eq!(from_flag.data.data_dir.unwrap().to_str(), Some("/from/flag"));
}

/// `[optimizer]` is tagged by `kind`: each kind takes only its own keys, with its own defaults
/// (PyTorch's), and `implementation` picks Burn's optimizers.
#[test]
fn optimizer_kinds_have_their_own_keys_and_defaults() {
    let e = err("[optimizer]\nkind = \"adam\"\nmomentum = 0.9\n", &[]);
    assert!(e.starts_with("run.toml:3:1: unknown field `momentum`") && e.contains("`beta1`"), "{e}");
    let e = err("[optimizer]\nkind = \"sgd\"\nbeta1 = 0.9\n", &[]);
    assert!(e.starts_with("run.toml:3:1: unknown field `beta1`") && e.contains("`momentum`"), "{e}");
    let e = err("[optimizer]\nlr = 0.1\n", &[]);
    assert!(e.contains("missing field `kind`"), "{e}");
    let e = err("[optimizer]\nkind = \"sgd\"\nmomentum = 0.9\nnesterov = true\ndampening = 0.1\n", &[]);
    assert!(e.contains("optimizer.nesterov") && e.contains("dampening = 0"), "{e}");

    let parse = |text: &str| parse_config(text, "run.toml", &[]).unwrap().optimizer;
    let OptimizerConfig::Adamw(w) = parse("[optimizer]\nkind = \"adamw\"\n") else { panic!() };
    assert_eq!((w.lr, w.weight_decay, w.eps, w.cautious_weight_decay), (1e-3, 0.01, 1e-8, false));
    let OptimizerConfig::Sgd(s) = parse("[optimizer]\nkind = \"sgd\"\n") else { panic!() };
    assert_eq!((s.lr, s.momentum, s.dampening, s.nesterov), (1e-3, 0.0, 0.0, false));
    let OptimizerConfig::Adagrad(a) = parse("[optimizer]\nkind = \"adagrad\"\n") else { panic!() };
    assert_eq!((a.lr, a.lr_decay, a.eps, a.weight_decay), (1e-2, 0.0, 1e-10, 0.0));
    let e = err("[optimizer]\nkind = \"adagrad\"\nbeta1 = 0.9\n", &[]);
    assert!(e.starts_with("run.toml:3:1: unknown field `beta1`") && e.contains("`lr_decay`"), "{e}");
    let e = err("[optimizer]\nkind = \"adagrad\"\nlr_decay = -1.0\n", &[]);
    assert!(e.contains("optimizer.lr_decay") && e.contains("≥ 0"), "{e}");
    let OptimizerConfig::Classp(c) = parse("[optimizer]\nkind = \"classp\"\n") else { panic!() };
    assert_eq!((c.lr, c.threshold(), c.eps, c.power, c.apply_scaling), (0.2, 0.0, 1e-5, 1.0, true));
    assert_eq!(c.mode, plasticity_core::optim::ClasspMode::Paper);
    let OptimizerConfig::Classp(r) = parse("[optimizer]\nkind = \"classp\"\nmode = \"reference\"\n") else { panic!() };
    assert_eq!(r.threshold(), 0.5);
    let e = err("[optimizer]\nkind = \"adam\"\nthreshold = 0.5\n", &[]);
    assert!(e.starts_with("run.toml:3:1: unknown field `threshold`"), "{e}");
    let e = err("[optimizer]\nkind = \"classp\"\nimplementation = \"burn\"\n", &[]);
    assert!(e.contains("optimizer.implementation") && e.contains("Burn has no CLASSP"), "{e}");
    let e = err("[optimizer]\nkind = \"classp\"\nmode = \"code\"\n", &[]);
    assert!(e.contains("unknown variant `code`") && e.contains("`reference`"), "{e}");
    let burn = parse("[optimizer]\nkind = \"adam\"\nimplementation = \"burn\"\n");
    assert_eq!(burn.common().implementation, plasticity_core::optim::Implementation::Burn);
    // Without [optimizer] in the file, --set creates an Adam table.
    let c = parse_config("", "run.toml", &["optimizer.lr=0.01".into()]).unwrap();
    assert!(matches!(c.optimizer, OptimizerConfig::Adam(ref a) if a.lr == 0.01));
}

#[test]
fn hsu_preprocessing_is_a_data_key() {
    let c = parse_config("[data]\npreprocessing = \"hsu\"\n", "run.toml", &[]).unwrap();
    assert_eq!(c.data.preprocessing, plasticity_train::config::Preprocessing::Hsu);
    let e = err("[data]\npreprocessing = \"padded\"\n", &[]);
    assert!(e.contains("unknown variant `padded`") && e.contains("`hsu`"), "{e}");
}
