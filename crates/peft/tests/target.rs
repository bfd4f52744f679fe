//! Target selection (peft semantics) and every check that runs before an adapter is attached.

mod common;

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, LinearConfig};
use common::{Tower, device};
use plasticity_models::MlpConfig;
use plasticity_peft::{Ia3Config, LoraConfig, MissConfig, MissVariant, PeftError, TargetModules, select_targets};

fn regex(p: &str) -> TargetModules {
    TargetModules::Regex(p.into())
}

fn names(n: &[&str]) -> TargetModules {
    TargetModules::Names(n.iter().map(|s| s.to_string()).collect())
}

fn selected(target: TargetModules, exclude: Option<TargetModules>) -> Vec<String> {
    let tower = Tower::new(&device());
    select_targets(&tower, "test", &target, exclude.as_ref(), true)
        .expect("selection")
        .modules
}

#[test]
fn regex_is_a_full_match_on_the_module_path() {
    assert_eq!(
        selected(regex(r"blocks\.\d+\.proj"), None),
        ["blocks.0.proj", "blocks.1.proj"]
    );
    // `proj` alone does not fullmatch `blocks.0.proj`, so it selects nothing.
    assert!(matches!(
        select_targets(&Tower::new(&device()), "test", &regex("proj"), None, true),
        Err(PeftError::NoMatch { .. })
    ));
}

#[test]
fn all_linear_selects_every_linear_but_the_output_head() {
    assert_eq!(
        selected(regex("all-linear"), None),
        [
            "encoder",
            "blocks.0.proj",
            "blocks.0.gate",
            "blocks.1.proj",
            "blocks.1.gate"
        ]
    );
    assert_eq!(
        selected(regex("all-linear"), Some(names(&["gate"]))),
        ["encoder", "blocks.0.proj", "blocks.1.proj"]
    );
}

#[test]
fn names_match_exactly_or_as_a_dotted_suffix() {
    assert_eq!(
        selected(names(&["gate", "head"]), None),
        ["blocks.0.gate", "blocks.1.gate", "head"]
    );
    assert_eq!(selected(names(&["1.gate"]), None), ["blocks.1.gate"]);
    // "ate" is not a dotted suffix of "gate".
    assert!(select_targets(&Tower::new(&device()), "test", &names(&["ate"]), None, true).is_err());
}

#[test]
fn exclude_is_checked_first() {
    assert_eq!(
        selected(regex(r".*"), Some(names(&["proj", "encoder"]))),
        ["blocks.0.gate", "blocks.1.gate", "head"]
    );
    assert_eq!(
        selected(names(&["gate"]), Some(regex(r"blocks\.0\..*"))),
        ["blocks.1.gate"]
    );
}

#[test]
fn mlp_module_paths_and_weight_group() {
    let mlp = MlpConfig {
        input: 6,
        hidden: vec![5, 4],
        classes: 3,
        ..MlpConfig::default()
    }
    .init(&device());
    let selection = select_targets(&mlp, "test", &regex(r"hidden\.\d+"), None, true).expect("selection");
    assert_eq!(selection.modules, ["hidden.0", "hidden.1"]);
    assert_eq!(selection.shapes, [vec![6, 5], vec![5, 4]]);
    let id = burn::module::ParamId::new();
    assert!(selection.group.matches(&id, Some("hidden.1.weight")));
    assert!(!selection.group.matches(&id, Some("hidden.1.bias")));
    assert!(!selection.group.matches(&id, Some("output.weight")));
}

#[test]
fn pattern_matching_nothing_names_it_and_lists_modules() {
    let err = MissConfig::new(names(&["gate", "q_proj"]))
        .with_r(2)
        .apply(Tower::new(&device()))
        .expect_err("q_proj is absent");
    let message = err.to_string();
    assert!(message.contains("`q_proj`"), "{message}");
    assert!(
        message.contains("blocks.0.proj") && message.contains("head"),
        "{message}"
    );
}

#[test]
fn invalid_regex_is_an_error() {
    let err = LoraConfig::new(regex("blocks("))
        .apply(Tower::new(&device()))
        .expect_err("bad regex");
    assert!(matches!(err, PeftError::InvalidPattern { .. }), "{err}");
}

#[derive(Module, Debug)]
struct ConvNet {
    conv: Conv2d,
    fc: Linear,
}

#[test]
fn conv_weight_is_rejected_by_name() {
    let d = device();
    let net = ConvNet {
        conv: Conv2dConfig::new([1, 2], [3, 3]).init(&d),
        fc: LinearConfig::new(4, 2).init(&d),
    };
    let err = LoraConfig::new(regex(".*"))
        .apply(net.clone())
        .expect_err("conv weight is rank 4");
    match &err {
        PeftError::NotLinear { module, rank, .. } => {
            assert_eq!((module.as_str(), *rank), ("conv", 4))
        }
        other => panic!("unexpected {other}"),
    }
    assert!(err.to_string().contains("`conv`"));
    // Excluding it makes the rest valid.
    let model = LoraConfig::new(regex(".*"))
        .with_exclude(names(&["conv"]))
        .apply(net)
        .expect("fc only");
    assert!(model.fc.weight.adapter().is_some());
}

/// A second reparameterization on the same weight is refused (Burn would silently keep one);
/// on another weight of the same model it is fine.
#[test]
fn a_second_method_on_a_reparameterized_weight_is_refused() {
    let d = device();
    let lora = LoraConfig::new(names(&["encoder"]))
        .apply(Tower::new(&d))
        .expect("lora");
    let both = MissConfig::new(names(&["head"])).with_r(2).apply(lora.clone()).expect("another weight");
    assert!(both.head.weight.reparameterization::<plasticity_peft::MissBone>().is_some());
    assert!(both.encoder.weight.adapter().is_some(), "the first method stays");
    let err = MissConfig::new(names(&["encoder"]))
        .with_r(2)
        .apply(lora)
        .expect_err("stacking");
    match &err {
        PeftError::AlreadyReparameterized { param, existing, .. } => {
            assert_eq!((param.as_str(), existing.as_str()), ("encoder.weight", "lora"))
        }
        other => panic!("unexpected {other}"),
    }
    let ia3 = Ia3Config::new(names(&["head"])).apply(Tower::new(&d)).expect("ia3");
    assert!(matches!(
        LoraConfig::new(names(&["head"])).apply(ia3),
        Err(PeftError::AlreadyReparameterized { .. })
    ));
}

#[test]
fn shape_checks_run_before_attaching() {
    let d = device();
    // encoder is [6, 8]: 6 % 4 != 0.
    let bat = MissConfig::new(names(&["encoder"]))
        .with_r(4)
        .with_variant(MissVariant::Bat);
    let err = bat.apply(Tower::new(&d)).expect_err("bat divisibility");
    assert!(
        matches!(&err, PeftError::Shape { module, shape, .. } if module == "encoder" && shape == &vec![6, 8]),
        "{err}"
    );
    let mini = MissConfig::new(names(&["head"]))
        .with_r(4)
        .with_variant(MissVariant::Mini)
        .with_mini_r(3);
    assert!(matches!(mini.apply(Tower::new(&d)), Err(PeftError::Shape { .. })));
    assert!(matches!(
        MissConfig::new(names(&["head"])).with_r(0).apply(Tower::new(&d)),
        Err(PeftError::Config { key: "r", .. })
    ));
}

#[test]
fn lora_dropout_is_refused_with_the_reason() {
    let mut config = LoraConfig::new(names(&["head"]));
    config.dropout = 0.1;
    let err = config.apply(Tower::new(&device())).expect_err("dropout");
    let err = err.to_string();
    assert!(
        err.contains("sees only the weight") && err.contains("linear points"),
        "{err}"
    );
}

#[test]
fn ia3_feedforward_must_be_a_subset_of_targets() {
    let config = Ia3Config::new(names(&["gate"])).with_feedforward(names(&["head"]));
    assert!(matches!(
        config.apply(Tower::new(&device())),
        Err(PeftError::Config {
            key: "feedforward_modules",
            ..
        })
    ));
}

#[test]
fn configs_deserialize_with_defaults_and_reject_unknown_keys() {
    let miss: MissConfig = serde_json::from_str(r#"{"target_modules": "hidden\\.\\d+"}"#).expect("miss");
    assert_eq!((miss.r, miss.variant, miss.mini_r), (64, MissVariant::Bone, 1));
    let lora: LoraConfig = serde_json::from_str(r#"{"target_modules": ["q", "v"], "use_rslora": true}"#).expect("lora");
    assert_eq!((lora.r, lora.alpha, lora.dropout), (8, 8.0, 0.0));
    assert_eq!(lora.target_modules, names(&["q", "v"]));
    assert!((lora.scale() - 8.0 / 8f64.sqrt()).abs() < 1e-12);
    let bat: MissConfig = serde_json::from_str(r#"{"target_modules": ".*", "variant": "bat", "r": 4}"#).expect("bat");
    assert_eq!(bat.variant, MissVariant::Bat);
    assert!(serde_json::from_str::<MissConfig>(r#"{"target_modules": ".*", "rank": 4}"#).is_err());
    assert!(serde_json::from_str::<LoraConfig>(r#"{"target_modules": ".*", "lora_alpha": 4}"#).is_err());
    assert!(serde_json::from_str::<Ia3Config>(r#"{"target_modules": ".*", "fan_in_fan_out": true}"#).is_err());
}
