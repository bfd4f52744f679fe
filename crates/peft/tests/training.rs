//! Every weight-space method on a model defined only in this test (`Tower`, not `Mlp`):
//! identity at init, gradients reach exactly the adapter parameters, an Adam step leaves the
//! base weights bit-identical, and `materialize()` merges to the same function.

mod common;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Distribution, Tensor};
use common::{Snapshot, Tower, assert_close, max_abs_diff};
use plasticity_peft::{
    Ia3Config, LoraConfig, LoraInit, MissConfig, MissVariant, PeftError, TargetModules,
};

fn autodiff() -> Device {
    Device::flex().autodiff()
}

fn blocks() -> TargetModules {
    TargetModules::Regex(r"blocks\.\d+\.(proj|gate)".into())
}

/// Attach with `apply`, then run the checks. `adapter_tensors` is the number of trainable
/// tensors expected (per adapted module: 1 for MiSS/IA3, 2 for LoRA) and `adapter_paths` their
/// path suffixes.
fn check_method(
    name: &str,
    apply: impl Fn(Tower) -> Result<Tower, PeftError>,
    adapter_tensors: usize,
    suffixes: &[&str],
) {
    let device = autodiff();
    let base = Tower::new(&device);
    let x = Tensor::<2>::random([5, 6], Distribution::Default, &device);
    let reference = base.forward(x.clone());
    let mut model = apply(base).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(
        max_abs_diff(model.forward(x.clone()), reference.clone()),
        0.0,
        "{name}: identity at init"
    );

    let before = Snapshot::of(&model);
    assert_eq!(before.adapters.len(), adapter_tensors, "{name}: adapter tensors");
    let adapter_scalars: usize = before.adapters.iter().map(|(_, v)| v.len()).sum();
    assert_eq!(
        plasticity_peft::adapter_count(&model),
        adapter_scalars,
        "{name}: adapter parameter count"
    );
    assert_eq!(
        plasticity_core::param_infos(&model).iter().map(|p| p.count()).sum::<usize>(),
        model.num_params(),
        "{name}: total = Burn's num_params"
    );
    for (path, _) in &before.adapters {
        assert!(
            suffixes.iter().any(|s| path.ends_with(s)) && path.starts_with("blocks."),
            "{name}: unexpected adapter {path}"
        );
    }

    let loss = (model.forward(x.clone()) - 1.0).powi_scalar(2).mean();
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    assert_eq!(
        grads.len(),
        adapter_tensors,
        "{name}: gradient entries are exactly the adapter tensors"
    );

    let mut optim = AdamConfig::new().init();
    model = optim.step(1e-2, model, grads);
    // Adam keeps two moment tensors per trained tensor: none for the frozen bases.
    assert_eq!(
        optim.to_record().len(),
        2 * adapter_tensors,
        "{name}: optimizer state tensors"
    );
    let after = Snapshot::of(&model);
    assert_eq!(
        after.bases, before.bases,
        "{name}: base parameters bit-identical after an Adam step"
    );
    assert_ne!(after.adapters, before.adapters, "{name}: adapters moved");
    let adapted = model.forward(x.clone());
    assert!(
        max_abs_diff(adapted.clone(), reference) > 1e-6,
        "{name}: output changed"
    );

    let merged = model.valid().materialize();
    let bases = plasticity_peft::base_params(&merged);
    assert!(
        bases.iter().all(|p| p.reparameterization.is_none()),
        "{name}: merged has no adapters"
    );
    assert_eq!(
        bases.len(),
        before.bases.len(),
        "{name}: merged has only base params"
    );
    assert_close(
        merged.forward(x.inner()),
        adapted.inner(),
        1e-5,
        &format!("{name}: materialize"),
    );
}

#[test]
fn miss_bone_trains_only_its_blocks() {
    let config = MissConfig::new(blocks()).with_r(4);
    check_method("bone", |m| config.apply(m), 4, &[".weight.miss.b"]);
}

#[test]
fn miss_bone_with_r_not_dividing_d_in() {
    let config = MissConfig::new(blocks()).with_r(3);
    check_method("bone r=3", |m| config.apply(m), 4, &[".weight.miss.b"]);
}

#[test]
fn miss_bat_trains_only_its_blocks() {
    let config = MissConfig::new(blocks()).with_r(4).with_variant(MissVariant::Bat);
    check_method("bat", |m| config.apply(m), 4, &[".weight.miss.b"]);
}

#[test]
fn miss_mini_trains_only_its_blocks() {
    let config = MissConfig::new(blocks())
        .with_r(4)
        .with_variant(MissVariant::Mini)
        .with_mini_r(2);
    check_method("mini", |m| config.apply(m), 4, &[".weight.miss.b"]);
}

#[test]
fn lora_every_init_trains_only_a_and_b() {
    for init in [LoraInit::Peft, LoraInit::Gaussian, LoraInit::Burn] {
        for rslora in [false, true] {
            let config = LoraConfig::new(blocks()).with_r(2).with_init(init).with_rslora(rslora);
            check_method(
                &format!("lora {init:?} rslora={rslora}"),
                |m| config.apply(m),
                8,
                &[".weight.lora.a", ".weight.lora.b"],
            );
        }
    }
}

#[test]
fn ia3_trains_only_its_vectors() {
    let config = Ia3Config::new(blocks()).with_feedforward(TargetModules::Names(vec!["gate".into()]));
    check_method("ia3", |m| config.apply(m), 4, &[".weight.ia3.l"]);
}

#[test]
fn ia3_vector_shapes_follow_feedforward() {
    let device = autodiff();
    let config = Ia3Config::new(TargetModules::Names(vec!["encoder".into(), "head".into()]))
        .with_feedforward(TargetModules::Names(vec!["head".into()]));
    let model = config.apply(Tower::new(&device)).expect("valid config");
    let l_len =
        |p: &burn::module::Param<Tensor<2>>| p.reparameterization::<plasticity_peft::Ia3>().map(|r| r.l.dims()[0]);
    assert_eq!(
        l_len(&model.encoder.weight),
        Some(8),
        "encoder [6, 8] scales its 8 outputs"
    );
    assert_eq!(
        l_len(&model.head.weight),
        Some(8),
        "head [8, 4] is feed-forward: scales its 8 inputs"
    );
}

#[test]
fn lora_peft_init_draws_a_within_kaiming_bound_with_the_configured_scale() {
    let device = Device::flex();
    let config = LoraConfig::new(TargetModules::Names(vec!["encoder".into()]))
        .with_r(4)
        .with_alpha(16.0)
        .with_rslora(true);
    let model = config.apply(Tower::new(&device)).expect("valid config");
    let adapter = model.encoder.weight.adapter().expect("LoRA adapter on encoder");
    assert_eq!(adapter.a.dims(), [6, 4]);
    assert_eq!(adapter.b.dims(), [4, 8]);
    assert_eq!(adapter.scale, 8.0, "rsLoRA: 16 / sqrt(4)");
    let bound = 1.0 / 6f32.sqrt();
    let a = common::values(adapter.a.val());
    assert!(
        a.iter().all(|v| v.abs() <= bound) && a.iter().any(|v| v.abs() > bound / 4.0),
        "U(-1/sqrt(6), 1/sqrt(6)): {a:?}"
    );
    assert!(common::values(adapter.b.val()).iter().all(|&v| v == 0.0));
}

fn adam_step(model: Tower, x: Tensor<2>) -> Tower {
    let loss = (model.forward(x) - 1.0).powi_scalar(2).mean();
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    AdamConfig::new().init().step(5e-2, model, grads)
}

#[test]
fn trained_adapters_unmerge_to_the_base_weight() {
    use plasticity_peft::ia3::unmerge_ia3;
    use plasticity_peft::lora::unmerge_lora;
    use plasticity_peft::miss::{MissBat, MissBone, unmerge_bat, unmerge_bone};
    let device = autodiff();
    let x = Tensor::<2>::random([5, 6], Distribution::Default, &device);
    let target = || blocks();

    let bat = adam_step(
        MissConfig::new(target())
            .with_r(4)
            .with_variant(MissVariant::Bat)
            .apply(Tower::new(&device))
            .expect("bat"),
        x.clone(),
    );
    let w = &bat.blocks[1].gate.weight;
    let b = w.reparameterization::<MissBat>().expect("bat adapter").b.val();
    assert!(common::values(b.clone()).iter().any(|&v| v != 0.0), "bat block trained");
    assert_close(
        unmerge_bat(w.val(), b).expect("invertible"),
        w.base(),
        1e-5,
        "bat unmerge",
    );

    let bone = adam_step(
        MissConfig::new(target())
            .with_r(3)
            .apply(Tower::new(&device))
            .expect("bone"),
        x.clone(),
    );
    let w = &bone.blocks[0].proj.weight;
    let b = w.reparameterization::<MissBone>().expect("bone adapter").b.val();
    assert_close(unmerge_bone(w.val(), b), w.base(), 1e-6, "bone unmerge");

    let lora = adam_step(
        LoraConfig::new(target())
            .with_r(2)
            .apply(Tower::new(&device))
            .expect("lora"),
        x.clone(),
    );
    let w = &lora.blocks[0].proj.weight;
    assert_close(
        unmerge_lora(w.val(), w.adapter().expect("lora adapter")),
        w.base(),
        1e-6,
        "lora unmerge",
    );

    let ia3 = adam_step(Ia3Config::new(target()).apply(Tower::new(&device)).expect("ia3"), x);
    let w = &ia3.blocks[0].gate.weight;
    let adapter = w.reparameterization::<plasticity_peft::Ia3>().expect("ia3 adapter");
    assert_close(
        unmerge_ia3(w.val(), adapter.l.val(), adapter.feedforward),
        w.base(),
        1e-6,
        "ia3 unmerge",
    );
}

#[test]
fn adapters_save_and_load_alone() {
    let device = autodiff();
    let base = Tower::new(&device);
    let config = MissConfig::new(blocks())
        .with_r(4)
        .with_variant(MissVariant::Mini)
        .with_mini_r(4);
    let x = Tensor::<2>::random([5, 6], Distribution::Default, &device);
    let trained = adam_step(config.apply(base.clone()).expect("mini"), x.clone());
    let record = trained
        .clone()
        .into_record_group(burn::module::ParamGroup::from_ids(plasticity_peft::adapter_params(&trained).iter().map(|p| p.id).collect()));
    assert_eq!(record.len(), 4, "only the four miss.b tensors");
    let fresh = config.apply(base).expect("mini");
    assert!(max_abs_diff(fresh.forward(x.clone()), trained.forward(x.clone())) > 1e-6);
    let loaded = fresh
        .try_load_record(record.allow_partial(true))
        .expect("adapter record loads");
    assert_eq!(max_abs_diff(loaded.forward(x.clone()), trained.forward(x)), 0.0);
}
