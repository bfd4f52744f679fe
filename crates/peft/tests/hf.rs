//! peft-format adapter directories and the PyTorch-layout base export (`plasticity_peft::hf`):
//! export → import round trips reproduce the adapted outputs, and the files have exactly the keys,
//! dtypes, shapes and JSON that peft writes (the safetensors header is parsed by hand here).

#[path = "hf/support.rs"]
mod support;

use burn::tensor::{Distribution, Tensor};
use plasticity_models::{Mlp, PlasticModel};
use plasticity_peft::hf::{self, HfOptions};
use plasticity_peft::saved::{exclusion, unfreeze_saved};
use plasticity_peft::{LoraConfig, MissConfig, MissVariant};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use support::*;

fn lora_round_trip(rslora: bool) {
    let x = Tensor::<2>::random([5, 12], Distribution::Default, &device());
    let config = LoraConfig::new(targets()).with_r(4).with_alpha(6.0).with_rslora(rslora);
    let (model, base) = trained(|m| config.apply(m), &x);
    let dir = tmp(&format!("lora-{rslora}"));
    hf::export_lora(&model, &config, &dir).unwrap();

    let file = dir.join(hf::ADAPTER_WEIGHTS);
    let dims = [(12, 16), (16, 8), (8, 4)];
    let mut expected = BTreeMap::new();
    for (m, (d_in, d_out)) in MODULES.iter().zip(dims) {
        expected.insert(format!("base_model.model.{m}.lora_A.weight"), vec![4, d_in]);
        expected.insert(format!("base_model.model.{m}.lora_B.weight"), vec![d_out, 4]);
    }
    check_header(&file, &expected);
    let adapter = model.hidden[0].weight.adapter().unwrap();
    let a_t = tensor_of(&file, "base_model.model.hidden.0.lora_A.weight", &[4, 12]);
    assert_eq!(a_t, values(adapter.a.val().transpose()), "lora_A = aᵀ");
    let b_t = tensor_of(&file, "base_model.model.hidden.0.lora_B.weight", &[16, 4]);
    assert_eq!(b_t, values(adapter.b.val().transpose()), "lora_B = bᵀ");
    assert!(b_t.iter().any(|v| *v != 0.0), "B trained");

    let (text, json) = read_json(&dir);
    assert!(
        text.starts_with("{\n  \"alpha_pattern\": {},\n  \"auto_mapping\": null,\n"),
        "{text}"
    );
    assert_eq!(json.keys().collect::<Vec<_>>(), KEYS_LORA.to_vec());
    assert_eq!(json["peft_type"], "LORA");
    assert_eq!((json["r"].clone(), json["lora_alpha"].clone()), (json!(4), json!(6)));
    assert_eq!(json["use_rslora"], json!(rslora));
    assert_eq!(json["target_modules"], json!(MODULES));
    assert_eq!(
        (json["task_type"].clone(), json["inference_mode"].clone()),
        (Value::Null, json!(true))
    );
    assert_eq!(json["init_lora_weights"], json!(true));

    assert!(
        max_diff(model.forward(x.clone()), base.forward(x.clone())) > 1e-4,
        "adapters matter"
    );
    let imported = hf::import_lora(base.clone(), &dir).unwrap();
    assert_eq!(imported.hidden[1].weight.adapter().unwrap().scale, config.scale());
    assert!(max_diff(imported.forward(x.clone()), model.forward(x)) <= 1e-6);
}

#[test]
fn lora_round_trip_alpha_over_r() {
    lora_round_trip(false);
}

#[test]
fn lora_round_trip_rslora() {
    lora_round_trip(true);
}

fn miss_round_trip(variant: MissVariant, r: usize, shapes: [Vec<usize>; 3], init_weights: Value) {
    let x = Tensor::<2>::random([5, 12], Distribution::Default, &device());
    let config = MissConfig::new(targets())
        .with_r(r)
        .with_variant(variant)
        .with_mini_r(2);
    let (model, base) = trained(|m| config.apply(m), &x);
    let dir = tmp(&format!("miss-{variant:?}"));
    hf::export_miss(&model, &config, &dir).unwrap();

    let file = dir.join(hf::ADAPTER_WEIGHTS);
    let expected = MODULES
        .iter()
        .zip(&shapes)
        .map(|(m, s)| (format!("base_model.model.{m}.miss_block"), s.clone()));
    check_header(&file, &expected.collect());
    let copied = tensor_of(&file, "base_model.model.hidden.0.miss_block", &shapes[0]);
    assert!(copied.iter().any(|v| *v != 0.0), "block trained");

    let (_, json) = read_json(&dir);
    assert_eq!(json.keys().collect::<Vec<_>>(), KEYS_MISS.to_vec());
    assert_eq!(
        (json["peft_type"].clone(), json["init_weights"].clone()),
        (json!("MISS"), init_weights)
    );
    assert_eq!((json["r"].clone(), json["mini_r"].clone()), (json!(r), json!(2)));
    assert_eq!(
        (json["miss_dropout"].clone(), json["target_modules"].clone()),
        (json!(0.0), json!(MODULES))
    );

    assert!(
        max_diff(model.forward(x.clone()), base.forward(x.clone())) > 1e-4,
        "adapters matter"
    );
    let imported = hf::import_miss(base.clone(), &dir).unwrap();
    assert!(max_diff(imported.forward(x.clone()), model.forward(x)) <= 1e-6);
}

#[test]
fn miss_round_trips() {
    // bone with r = 5: d_in = 12 is not a multiple (peft pads x; the last shard is truncated).
    let bone = [vec![5, 16], vec![5, 8], vec![5, 4]];
    miss_round_trip(MissVariant::Bone, 5, bone, json!(true));
    let bat = [vec![4, 4, 4], vec![2, 4, 4], vec![1, 4, 4]];
    miss_round_trip(MissVariant::Bat, 4, bat, json!("bat"));
    let mini = [vec![4, 2], vec![4, 2], vec![4, 2]];
    miss_round_trip(MissVariant::Mini, 4, mini, json!("mini"));
}

#[test]
fn renamed_modules_round_trip() {
    let x = Tensor::<2>::random([3, 12], Distribution::Default, &device());
    let config = LoraConfig::new(targets()).with_r(2);
    let (model, base) = trained(|m| config.apply(m), &x);
    let names = BTreeMap::from([("hidden.0".to_string(), "model.layers.0.fc".to_string())]);
    let options = HfOptions {
        task_type: Some("FEATURE_EXTRACTION".into()),
        ..HfOptions::with_names(names)
    };
    let dir = tmp("renamed");
    hf::export_lora_with(&model, &config, &dir, &options).unwrap();
    let (header, _) = parse(&dir.join(hf::ADAPTER_WEIGHTS));
    assert!(header.contains_key("base_model.model.model.layers.0.fc.lora_A.weight"));
    assert_eq!(
        read_json(&dir).1["target_modules"],
        json!(["model.layers.0.fc", "hidden.1", "output"])
    );
    assert_eq!(read_json(&dir).1["task_type"], "FEATURE_EXTRACTION");
    let imported = hf::import_lora_with(base.clone(), &dir, &options).unwrap();
    assert!(max_diff(imported.forward(x.clone()), model.forward(x)) <= 1e-6);
    // Without the map the file's names select no Burn module.
    assert!(hf::import_lora(base.clone(), &dir).is_err());
}

/// `modules_to_save = ["output"]` with a target regex that also matches `output`: the head is
/// not adapted, trains in full, and travels in the adapter file as peft saves it.
#[test]
fn saved_modules_round_trip() {
    let x = Tensor::<2>::random([5, 12], Distribution::Default, &device());
    let saved = vec!["output".to_string()];
    let lora = LoraConfig::new(targets()).with_r(2);
    let miss = MissConfig::new(targets()).with_r(4);
    for (name, peft_type) in [("lora", "LORA"), ("miss", "MISS")] {
        let attach = |m: Mlp| {
            let model = match name {
                "lora" => LoraConfig {
                    exclude_modules: exclusion(None, &saved),
                    ..lora.clone()
                }
                .apply(m)?,
                _ => MissConfig {
                    exclude_modules: exclusion(None, &saved),
                    ..miss.clone()
                }
                .apply(m)?,
            };
            unfreeze_saved(model, &saved)
        };
        let (model, base) = trained(attach, &x);
        let options = HfOptions {
            modules_to_save: saved.clone(),
            ..HfOptions::default()
        };
        let dir = tmp(&format!("saved-{name}"));
        match name {
            "lora" => hf::export_lora_with(&model, &lora, &dir, &options).unwrap(),
            _ => hf::export_miss_with(&model, &miss, &dir, &options).unwrap(),
        }
        let json = read_json(&dir).1;
        assert_eq!(json["peft_type"], peft_type);
        assert_eq!(json["modules_to_save"], json!(["output"]), "{name}");
        assert_eq!(json["target_modules"], json!(["hidden.0", "hidden.1"]), "{name}");
        let file = dir.join(hf::ADAPTER_WEIGHTS);
        let weight = tensor_of(&file, "base_model.model.output.weight", &[4, 8]);
        assert_eq!(
            weight,
            values(model.output.weight.val().transpose()),
            "{name}: [out, in]"
        );
        let bias = tensor_of(&file, "base_model.model.output.bias", &[4]);
        assert_eq!(bias, values(model.output.bias.as_ref().unwrap().val()), "{name}");
        assert_ne!(
            weight,
            values(base.output.weight.val().transpose()),
            "{name}: head trained"
        );

        let imported = match name {
            "lora" => hf::import_lora(base.clone(), &dir).unwrap(),
            _ => hf::import_miss(base.clone(), &dir).unwrap(),
        };
        assert!(imported.output.weight.adapter().is_none(), "{name}: head not adapted");
        assert!(
            max_diff(imported.forward(x.clone()), model.forward(x.clone())) <= 1e-6,
            "{name}"
        );
    }
}

#[test]
fn base_export_is_pytorch_layout_and_excludes_adapters() {
    let x = Tensor::<2>::random([3, 12], Distribution::Default, &device());
    let config = LoraConfig::new(targets()).with_r(2);
    let (model, base) = trained(|m| config.apply(m), &x);
    let path = tmp("base").join("base.safetensors");
    hf::export_base_pytorch(&model, &path).unwrap();
    let expected = [("hidden.0", 12, 16), ("hidden.1", 16, 8), ("output", 8, 4)]
        .into_iter()
        .flat_map(|(m, d_in, d_out)| {
            [
                (format!("{m}.weight"), vec![d_out, d_in]),
                (format!("{m}.bias"), vec![d_out]),
            ]
        });
    check_header(&path, &expected.collect());
    // The frozen base, transposed — not the adapted weight.
    let w = tensor_of(&path, "hidden.1.weight", &[8, 16]);
    assert_eq!(w, values(model.hidden[1].weight.base().transpose()));
    let bias = tensor_of(&path, "output.bias", &[4]);
    assert_eq!(bias, values(model.output.bias.as_ref().unwrap().val()));
    // And back: a freshly initialised model loads it and computes the base's function.
    let loaded = hf::import_base_pytorch(bases().0, &path).unwrap();
    assert_eq!(max_diff(loaded.forward(x.clone()), base.forward(x)), 0.0);
    let e = hf::import_base_pytorch(
        Mlp {
            output: bases().0.hidden.remove(1),
            ..bases().0
        },
        &path,
    );
    assert!(e.unwrap_err().to_string().contains("base.safetensors"));
}

#[test]
fn invalid_files_are_reported_with_file_and_key() {
    let x = Tensor::<2>::random([3, 12], Distribution::Default, &device());
    let config = LoraConfig::new(targets()).with_r(2);
    let (model, base) = trained(|m| config.apply(m), &x);
    let dir = tmp("invalid");
    hf::export_lora(&model, &config, &dir).unwrap();
    let file = dir.join(hf::ADAPTER_WEIGHTS);
    let good = std::fs::read(&file).unwrap();

    // Truncated data and a corrupt header.
    std::fs::write(&file, &good[..good.len() - 7]).unwrap();
    let e = error_text(hf::import_lora(base.clone(), &dir));
    assert!(
        e.contains("adapter_model.safetensors") && e.contains("safetensors"),
        "{e}"
    );
    std::fs::write(&file, b"\x10\0\0\0\0\0\0\0{not json at all").unwrap();
    assert!(error_text(hf::import_lora(base.clone(), &dir)).contains("adapter_model.safetensors"));

    // A tensor of the wrong shape, then a missing tensor (files written by hand).
    let (header, data) = {
        std::fs::write(&file, &good).unwrap();
        parse(&file)
    };
    let mut tensors: Vec<(String, Vec<usize>, Vec<f32>)> = header
        .iter()
        .filter(|(k, _)| *k != "__metadata__")
        .map(|(k, info)| {
            let shape: Vec<usize> = serde_json::from_value(info["shape"].clone()).unwrap();
            let [s, e] = [0, 1].map(|i| info["data_offsets"][i].as_u64().unwrap() as usize);
            let v = data[s..e]
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect();
            (k.clone(), shape, v)
        })
        .collect();
    let key = "base_model.model.hidden.1.lora_A.weight";
    let i = tensors.iter().position(|(k, _, _)| k == key).unwrap();
    tensors[i] = (key.into(), vec![3, 16], vec![0.5; 48]);
    write_raw(&file, &tensors);
    let e = error_text(hf::import_lora(base.clone(), &dir));
    assert!(e.contains("adapter_model.safetensors") && e.contains(key), "{e}");
    assert!(
        e.contains("[3, 16]") && e.contains("[2, 16]"),
        "found and expected shapes: {e}"
    );
    tensors.remove(i);
    write_raw(&file, &tensors);
    let e = error_text(hf::import_lora(base.clone(), &dir));
    assert!(e.contains("missing tensor") && e.contains(key), "{e}");

    // An extra tensor that no adapted module takes.
    std::fs::write(&file, &good).unwrap();
    let mut extra = tensors.clone();
    extra.push((key.into(), vec![2, 16], vec![0.0; 32]));
    extra.push((
        "base_model.model.nowhere.lora_A.weight".into(),
        vec![2, 2],
        vec![0.0; 4],
    ));
    write_raw(&file, &extra);
    let e = error_text(hf::import_lora(base.clone(), &dir));
    assert!(e.contains("nowhere"), "{e}");

    // The wrong peft_type for the importer, and an unsupported feature.
    std::fs::write(&file, &good).unwrap();
    let e = error_text(hf::import_miss(base.clone(), &dir));
    assert!(
        e.contains("peft_type") && e.contains("LORA") && e.contains("adapter_config.json"),
        "{e}"
    );
    let (_, mut json) = read_json(&dir);
    json.insert("use_dora".into(), json!(true));
    std::fs::write(dir.join(hf::ADAPTER_CONFIG), Value::Object(json).to_string()).unwrap();
    let e = error_text(hf::import_lora(base.clone(), &dir));
    assert!(e.contains("use_dora") && e.contains("adapter_config.json"), "{e}");
}
