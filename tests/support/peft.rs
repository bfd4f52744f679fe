//! The base run and adapted-run configs shared by the PEFT run tests.
#![allow(dead_code)]

use crate::common::config;
use plasticity::burn::tensor::Device;
use plasticity::models::MlpConfig;

pub const BASE: &str = r#"
seed = 11
[data]
valid_size = 500
train_subset = 3000
[model]
kind = "mlp"
hidden = [32, 32]
[train]
epochs = 2
batch_size = 64
"#;

/// One epoch on 45°-rotated images, starting from the base run's model, adapted by `peft`.
pub fn adapted(base: &std::path::Path, peft: &str, dir: &std::path::Path) -> plasticity::train::RunConfig {
    let mut c = config(&format!("{BASE}\n[peft]\n{peft}\n"), dir);
    c.init_from = Some(base.to_path_buf());
    c.train.epochs = 1;
    c.data.rotate_degrees = Some(45.0);
    c
}

/// The model `BASE` describes, freshly initialised on flex.
pub fn mlp() -> plasticity::models::Mlp {
    MlpConfig {
        hidden: vec![32, 32],
        ..Default::default()
    }
    .init(&Device::flex())
}

/// `model` with the `[peft]` of `cfg` attached (as a fresh run would, before training).
pub fn attach(model: plasticity::models::Mlp, cfg: &plasticity::train::RunConfig) -> plasticity::models::Mlp {
    let mut methods = plasticity::train::Methods::new(cfg.methods()).unwrap();
    let device = Device::flex();
    let cx = plasticity::core::AttachContext {
        device: &device,
        total_steps: 0,
        run_dir: None,
    };
    methods.attach(model, &cx).unwrap().model
}
