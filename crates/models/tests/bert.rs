//! The BERT port against PyTorch (transformers' `BertModel`) on all-MiniLM-L6-v2:
//! ../shared/data/text/reference/minilm_reference.json holds four sentences' token ids and
//! attention masks, the first 8 values of token 0's last hidden state, the mean-pooled
//! embeddings and the cosine of the first two. Needs ../shared/data (or PLASTICITY_DATA).

use burn::tensor::{Device, Int, Tensor, TensorData};
use plasticity_core::Hooks;
use plasticity_models::bert::{BertModel, load_pretrained};
use serde_json::Value;
use std::path::PathBuf;

fn text_dir() -> PathBuf {
    let data = std::env::var_os("PLASTICITY_DATA").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    data.join("text")
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()
}

#[test]
#[ignore = "needs ../shared/data/text (all-MiniLM-L6-v2 and its reference values)"]
fn minilm_matches_transformers_within_1e_4() {
    let dir = text_dir();
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("reference/minilm_reference.json")).unwrap()).unwrap();
    let device = Device::flex();
    let (config, model) = load_pretrained(&dir.join("all-MiniLM-L6-v2"), &device).unwrap();
    assert_eq!((config.hidden_size, config.num_hidden_layers, config.layer_norm_eps), (384, 6, 1e-12));
    let ids: Vec<Vec<i64>> = serde_json::from_value(reference["input_ids"].clone()).unwrap();
    let mask: Vec<Vec<f32>> = serde_json::from_value(reference["attention_mask"].clone()).unwrap();
    let (b, s) = (ids.len(), ids[0].len());
    let ids = Tensor::<2, Int>::from_data(TensorData::new(ids.concat(), [b, s]), &device);
    let mask = Tensor::<2>::from_data(TensorData::new(mask.concat(), [b, s]), &device);
    let hidden = model.encode(ids, &mask, &Hooks::none());
    // Token 0's first 8 values of the last hidden state.
    let first = hidden.clone().slice([0..b, 0..1, 0..8]).into_data().try_to_vec::<f32>().unwrap();
    let expected: Vec<f32> = reference["last_hidden_state_token0_first8"].as_array().unwrap().iter().flat_map(floats).collect();
    for (a, e) in first.iter().zip(&expected) {
        assert!((a - e).abs() < 1e-4, "hidden state {a} vs {e}");
    }
    let pooled = BertModel::mean_pool(hidden, &mask);
    let got = pooled.clone().into_data().try_to_vec::<f32>().unwrap();
    let expected: Vec<f32> = reference["mean_pooled"].as_array().unwrap().iter().flat_map(floats).collect();
    assert_eq!(got.len(), expected.len());
    let worst = got.iter().zip(&expected).map(|(a, e)| (a - e).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-4, "largest pooled difference {worst}");
    // The cosine of the first two sentences (0.755 in the data README, 0.75534 here).
    let row = |i: usize| got[i * 384..(i + 1) * 384].to_vec();
    let (u, v) = (row(0), row(1));
    let dot: f32 = u.iter().zip(&v).map(|(a, b)| a * b).sum();
    let norm = |x: &[f32]| x.iter().map(|a| a * a).sum::<f32>().sqrt();
    let cosine = dot / (norm(&u) * norm(&v));
    assert!((cosine - 0.755).abs() < 1e-3, "cosine {cosine}");
    assert!((cosine as f64 - reference["cosine_0_1"].as_f64().unwrap()).abs() < 1e-4);
}

/// A copy of the checkpoint in a temporary directory with its tensors changed by `edit`.
fn edited_checkpoint(name: &str, edit: impl Fn(&str, Vec<usize>, Vec<u8>) -> Option<(Vec<usize>, Vec<u8>)>) -> PathBuf {
    let src = text_dir().join("all-MiniLM-L6-v2");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("bert-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(src.join("config.json"), dir.join("config.json")).unwrap();
    let bytes = std::fs::read(src.join("model.safetensors")).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut kept: Vec<(String, safetensors::Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    for (key, view) in file.tensors() {
        if let Some((shape, data)) = edit(&key, view.shape().to_vec(), view.data().to_vec()) {
            kept.push((key, view.dtype(), shape, data));
        }
    }
    let views: Vec<(String, safetensors::tensor::TensorView)> =
        kept.iter().map(|(k, d, s, b)| (k.clone(), safetensors::tensor::TensorView::new(*d, s.clone(), b).unwrap())).collect();
    safetensors::serialize_to_file(views, None, &dir.join("model.safetensors")).unwrap();
    dir
}

#[test]
#[ignore = "needs ../shared/data/text (all-MiniLM-L6-v2)"]
fn a_missing_or_misshapen_tensor_is_a_one_line_error_naming_it() {
    let device = Device::flex();
    let missing = edited_checkpoint("missing", |key, shape, data| (key != "encoder.layer.3.attention.self.key.weight").then_some((shape, data)));
    let e = load_pretrained(&missing, &device).err().unwrap().to_string();
    assert!(e.contains("encoder.layer.3.attention.self.key.weight") && e.contains("missing") && !e.contains('\n'), "{e}");
    // The last 384 values of the word embeddings cut: [30521, 384] instead of [30522, 384].
    let misshapen = edited_checkpoint("misshapen", |key, shape, data| match key {
        "embeddings.word_embeddings.weight" => Some((vec![shape[0] - 1, shape[1]], data[..data.len() - 4 * shape[1]].to_vec())),
        _ => Some((shape, data)),
    });
    let e = load_pretrained(&misshapen, &device).err().unwrap().to_string();
    assert!(e.contains("word_embeddings") && !e.contains('\n'), "{e}");
    let extra = edited_checkpoint("extra", |key, shape, data| Some((shape, data)).filter(|_| key != "pooler.dense.bias").or(Some((vec![2], vec![0; 8]))));
    // pooler.dense.bias replaced by a 2-element tensor: still skipped, loads fine.
    assert!(load_pretrained(&extra, &device).is_ok());
}

/// A small random BERT (no files needed).
fn tiny(device: &Device) -> plasticity_models::bert::BertClassifier {
    let config: plasticity_models::bert::BertConfig = serde_json::from_str(
        r#"{"vocab_size": 50, "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 4,
            "intermediate_size": 32, "max_position_embeddings": 32, "layer_norm_eps": 1e-12}"#,
    )
    .unwrap();
    plasticity_models::bert::BertClassifier::new(config.init(device), 3, plasticity_models::bert::Pooling::Mean, device)
}

fn tokens(rows: &[&[i64]], device: &Device) -> plasticity_core::Tokens {
    let s = rows.iter().map(|r| r.len()).max().unwrap();
    let ids: Vec<i64> = rows.iter().flat_map(|r| r.iter().copied().chain(std::iter::repeat_n(0, s - r.len()))).collect();
    let mask: Vec<f32> = rows.iter().flat_map(|r| std::iter::repeat_n(1.0, r.len()).chain(std::iter::repeat_n(0.0, s - r.len()))).collect();
    plasticity_core::Tokens {
        ids: Tensor::<2, Int>::from_data(TensorData::new(ids, [rows.len(), s]), device),
        mask: Tensor::<2>::from_data(TensorData::new(mask, [rows.len(), s]), device),
    }
}

/// Counts the hooks' calls (activations, linear points, widths seen) and computes every linear
/// point itself.
#[derive(Clone, Default)]
struct Count(std::sync::Arc<std::sync::Mutex<(usize, usize, Vec<usize>)>>);

impl plasticity_core::Hook for Count {
    fn activate(&self, _point: usize, z: &plasticity_core::Units, h: Tensor<3>) -> Tensor<3> {
        let mut c = self.0.lock().unwrap();
        c.0 += 1;
        c.2.push(z.values.dims()[1]);
        h
    }
    fn replace_linear(&self, _point: usize, layer: &burn::nn::Linear, x: &Tensor<2>) -> Option<Tensor<2>> {
        self.0.lock().unwrap().1 += 1;
        Some(layer.forward(x.clone()))
    }
}

#[test]
fn the_classifier_masks_padding_and_calls_every_hook_point() {
    use plasticity_core::PlasticModel;
    let device = Device::flex();
    let model = tiny(&device);
    assert_eq!(model.linear_points().len(), 2 * 6 + 1);
    assert_eq!(model.linear_points()[0], "encoder.layer.0.attention.self_attn.query");
    assert_eq!(model.insertion_points().iter().map(|p| p.width).collect::<Vec<_>>(), [32, 32]);
    // Padding changes nothing: the same sentence alone and beside a longer one.
    let alone = model.forward(tokens(&[&[1, 7, 9, 2]], &device)).into_data().try_to_vec::<f32>().unwrap();
    let padded = model.forward(tokens(&[&[1, 7, 9, 2], &[1, 5, 6, 7, 8, 9, 2]], &device)).into_data().try_to_vec::<f32>().unwrap();
    for (a, b) in alone.iter().zip(&padded[..3]) {
        assert!((a - b).abs() < 1e-5, "{alone:?} vs {padded:?}");
    }
    // Hooks see every linear point and the FFN's intermediate units ([b·s, 32, 1]).
    let count = Count::default();
    let hooked = model.forward_hooked(tokens(&[&[1, 7, 9, 2]], &device), &Hooks::new(vec![Box::new(count.clone())]));
    assert_eq!(hooked.into_data().try_to_vec::<f32>().unwrap(), alone);
    let c = count.0.lock().unwrap();
    assert_eq!((c.0, c.1, c.2.clone()), (2, 13, vec![32, 32]));
}
