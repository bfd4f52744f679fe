//! Writes an export directory for `scripts/check_peft_export.py`, which loads it with torch and
//! peft and compares outputs:
//!
//! ```text
//! cargo run -p plasticity-peft --example export_for_python -- target/peft-export
//! python scripts/check_peft_export.py target/peft-export
//! ```
//!
//! An `Mlp` 784-32-10 (ReLU, seed 42) gets, in separate copies, LoRA (r 4, alpha 8), MiSS bone
//! (r 8) and MiSS bat (r 2) on `hidden.0` and `output`, and LoRA on `hidden.0` with `output` in
//! `modules_to_save`; two Adam steps make every adapter nonzero. Written: `base.safetensors`
//! (PyTorch layout), one peft adapter directory per method (`lora/`, `miss_bone/`, `miss_bat/`,
//! `lora_saved/`), and `io.json` with the model config, four inputs and
//! plasticity's outputs (base and each adapted model).

use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Distribution, Tensor};
use plasticity_models::{Mlp, MlpConfig, PlasticModel};
use plasticity_peft::saved::{exclusion, unfreeze_saved};
use plasticity_peft::{LoraConfig, MissConfig, MissVariant, PeftError, TargetModules, hf};
use serde_json::json;
use std::path::PathBuf;

fn rows(t: Tensor<2>) -> Vec<Vec<f32>> {
    let [_, cols] = t.dims();
    let values = t.into_data().convert::<f32>().try_into_vec::<f32>().expect("f32 data");
    values.chunks(cols).map(<[f32]>::to_vec).collect()
}

/// Attach adapters with `apply` and take two Adam steps towards a fixed random target.
fn train(base: Mlp, apply: impl Fn(Mlp) -> Result<Mlp, PeftError>, x: &Tensor<2>) -> Mlp {
    let mut model = apply(base).expect("attach adapters");
    let target = Tensor::<2>::random([x.dims()[0], 10], Distribution::Default, &x.device());
    let mut optim = AdamConfig::new().init();
    for _ in 0..2 {
        let loss = (model.forward(x.clone()) - target.clone()).powi_scalar(2).mean();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-2, model, grads);
    }
    model
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "target/peft-export".into()));
    std::fs::create_dir_all(&dir)?;
    let device = Device::flex().autodiff();
    device.seed(42);
    let config = MlpConfig {
        input: 784,
        hidden: vec![32],
        classes: 10,
        ..MlpConfig::default()
    };
    let base = config.init(&device);
    let _ = plasticity_core::param_infos(&base); // initialise the lazy parameters before cloning (burn-0.22.md §11.7)
    let x = Tensor::<2>::random([4, 784], Distribution::Default, &device);
    hf::export_base_pytorch(&base, dir.join("base.safetensors"))?;

    let targets = TargetModules::Regex(r"hidden\.0|output".into());
    let lora = LoraConfig::new(targets.clone()).with_r(4).with_alpha(8.0);
    let bone = MissConfig::new(targets.clone()).with_r(8);
    let bat = MissConfig::new(targets).with_r(2).with_variant(MissVariant::Bat);

    let lora_model = train(base.clone(), |m| lora.apply(m), &x);
    hf::export_lora(&lora_model, &lora, dir.join("lora"))?;
    let bone_model = train(base.clone(), |m| bone.apply(m), &x);
    hf::export_miss(&bone_model, &bone, dir.join("miss_bone"))?;
    let bat_model = train(base.clone(), |m| bat.apply(m), &x);
    hf::export_miss(&bat_model, &bat, dir.join("miss_bat"))?;
    // LoRA on hidden.0 with the head saved whole (`modules_to_save`): the target regex also
    // matches `output`, which is excluded as peft does.
    let saved = vec!["output".to_string()];
    let lora_saved = LoraConfig {
        exclude_modules: exclusion(None, &saved),
        ..lora.clone()
    };
    let saved_model = train(base.clone(), |m| unfreeze_saved(lora_saved.apply(m)?, &saved), &x);
    let options = hf::HfOptions {
        modules_to_save: saved,
        ..Default::default()
    };
    hf::export_lora_with(&saved_model, &lora_saved, dir.join("lora_saved"), &options)?;

    let io = json!({
        "model": config,
        "inputs": rows(x.clone()),
        "outputs": {
            "base": rows(base.forward(x.clone())),
            "lora": rows(lora_model.forward(x.clone())),
            "miss_bone": rows(bone_model.forward(x.clone())),
            "miss_bat": rows(bat_model.forward(x.clone())),
            "lora_saved": rows(saved_model.forward(x)),
        },
    });
    std::fs::write(dir.join("io.json"), serde_json::to_string(&io)?)?;
    println!("wrote {}", dir.display());
    Ok(())
}
