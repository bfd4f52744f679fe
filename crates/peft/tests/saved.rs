//! `modules_to_save` on a model defined only in this test: the saved module trains in full
//! beside the adapters, is never an adapter target, and everything else stays frozen.

mod common;

use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Distribution, Tensor};
use common::{Snapshot, Tower};
use plasticity_peft::saved::{exclusion, saved_params, unfreeze_saved};
use plasticity_peft::{LoraConfig, PeftError, TargetModules};

fn head() -> Vec<String> {
    vec!["head".into()]
}

/// LoRA on every module (`.*`), with the head saved: peft's recipe for a new classifier head.
fn lora_with_saved_head(device: &Device) -> Tower {
    let mut config = LoraConfig::new(TargetModules::Regex(".*".into())).with_r(2);
    config.exclude_modules = exclusion(config.exclude_modules.as_ref(), &head());
    let model = config.apply(Tower::new(device)).unwrap();
    unfreeze_saved(model, &head()).unwrap()
}

#[test]
fn saved_head_trains_in_full_and_is_not_adapted() {
    let device = Device::flex().autodiff();
    let mut model = lora_with_saved_head(&device);
    let bases = plasticity_peft::base_params(&model);
    let adapted: Vec<&str> = bases
        .iter()
        .filter(|p| p.reparameterization.is_some())
        .map(|p| p.path.as_str())
        .collect();
    // encoder + 2 blocks × (proj, gate); the head is excluded from `.*`.
    assert_eq!(adapted.len(), 5, "{adapted:?}");
    assert!(adapted.iter().all(|p| !p.starts_with("head")), "{adapted:?}");
    let saved = saved_params(&model, &head()).unwrap();
    let paths: Vec<(&str, &str)> = saved.iter().map(|p| (p.param.as_str(), p.field())).collect();
    assert_eq!(paths, [("head.weight", "weight"), ("head.bias", "bias")]);

    let x = Tensor::<2>::random([5, 6], Distribution::Default, &device);
    let loss = (model.forward(x) - 1.0).powi_scalar(2).mean();
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    // 5 × (A, B) + head weight + head bias.
    assert_eq!(grads.len(), 12);
    let before = Snapshot::of(&model);
    let mut optim = AdamConfig::new().init();
    model = optim.step(1e-2, model, grads);
    assert_eq!(optim.to_record().len(), 2 * 12, "Adam moments for trained tensors only");
    let after = Snapshot::of(&model);
    for ((path, old), (_, new)) in before.bases.iter().zip(&after.bases) {
        assert_eq!(
            old != new,
            path.starts_with("head."),
            "{path}: only the head's base moved"
        );
    }
}

#[test]
fn saved_names_are_checked() {
    let device = Device::flex().autodiff();
    let model = Tower::new(&device);
    // A suffix selects every module it ends (`proj` → blocks.0.proj and blocks.1.proj).
    let proj = saved_params(&model, &["proj".into()]).unwrap();
    assert_eq!(proj.len(), 4);
    assert!(proj.iter().all(|p| p.module.ends_with(".proj")));
    // A prefix module selects everything under it.
    assert_eq!(saved_params(&model, &["blocks".into()]).unwrap().len(), 8);
    match saved_params(&model, &["classifier".into()]) {
        Err(PeftError::NoMatch { pattern, available, .. }) => {
            assert_eq!(pattern, "classifier");
            assert!(available.contains("head"), "{available}");
        }
        other => panic!("expected NoMatch, got {other:?}"),
    }
    // An adapted module cannot also be saved whole.
    let adapted = LoraConfig::new(TargetModules::Names(vec!["head".into()]))
        .apply(Tower::new(&device))
        .unwrap();
    let err = unfreeze_saved(adapted, &head()).unwrap_err().to_string();
    assert!(err.contains("head.weight") && err.contains("already adapted"), "{err}");
}
