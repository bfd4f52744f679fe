//! The other direction of `export_for_python`: imports the adapters that
//! `scripts/check_peft_export.py --write-from-python` saved with peft itself and compares the
//! adapted outputs with torch's.
//!
//! ```text
//! cargo run -p plasticity-peft --example export_for_python -- target/peft-export
//! python scripts/check_peft_export.py target/peft-export --write-from-python
//! cargo run -p plasticity-peft --example import_from_python -- target/peft-export
//! ```
//!
//! The base comes from `base.safetensors` through `hf::import_base_pytorch`, so no Burn state is
//! shared with the export. Exit status 1 if an output differs by more than 1e-5.

use burn::tensor::{Device, Tensor, TensorData};
use plasticity_models::{MlpConfig, PlasticModel};
use plasticity_peft::hf;
use serde_json::Value;
use std::path::PathBuf;

fn matrix(rows: &Value, device: &Device) -> Tensor<2> {
    let rows = rows.as_array().expect("a list of rows");
    let values: Vec<f32> = rows
        .iter()
        .flat_map(|r| r.as_array().expect("a row").iter())
        .map(|v| v.as_f64().expect("a number") as f32)
        .collect();
    let cols = values.len() / rows.len();
    Tensor::from_data(TensorData::new(values, [rows.len(), cols]), device)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "target/peft-export".into()));
    let device = Device::flex();
    let io: Value = serde_json::from_str(&std::fs::read_to_string(root.join("io.json"))?)?;
    let config: MlpConfig = serde_json::from_value(io["model"].clone())?;
    let x = matrix(&io["inputs"], &device);
    let base = hf::import_base_pytorch(config.init(&device), root.join("base.safetensors"))?;

    let from_python = root.join("from_python");
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(from_python.join("io.json"))?)?;
    let mut failures = 0;
    for (method, outputs) in expected["outputs"].as_object().expect("outputs by method") {
        let dir = from_python.join(method);
        let json: Value = serde_json::from_str(&std::fs::read_to_string(dir.join(hf::ADAPTER_CONFIG))?)?;
        let model = match json["peft_type"].as_str() {
            Some("LORA") => hf::import_lora(base.clone(), &dir)?,
            _ => hf::import_miss(base.clone(), &dir)?,
        };
        let diff: f32 = (model.forward(x.clone()) - matrix(outputs, &device))
            .abs()
            .max()
            .into_scalar();
        let ok = diff <= 1e-5;
        failures += usize::from(!ok);
        println!(
            "{} {method}: max |plasticity - torch| = {diff:.3e}",
            if ok { "ok  " } else { "FAIL" }
        );
    }
    println!(
        "{} passed, {failures} failed",
        expected["outputs"].as_object().map_or(0, |m| m.len()) - failures
    );
    if failures > 0 {
        std::process::exit(1);
    }
    Ok(())
}
