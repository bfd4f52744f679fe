//! Unit tests against numpy reference values (fixtures/triadapt.json, PyTorch layout, written by
//! `scripts/peft_reference.py`): assembly, ΔW, forward, merge/unmerge, scores, penalty, schedules.
//! Training dynamics (init, gradients, growth, Adam state, resume) are in `tests/triadapt.rs`.

use super::*;
use crate::target::TargetModules;
use burn::module::{Module, Param, Reparameterizer};
use burn::nn::Linear;
use burn::tensor::{Device, Tensor, TensorData};
use serde_json::Value;
use std::collections::BTreeMap;

const TOLERANCE: f32 = 1e-5;
const FIXTURE: &str = include_str!("../../fixtures/triadapt.json");

fn fixture(text: &str) -> Vec<Value> {
    let root: Value = serde_json::from_str(text).expect("fixture is valid JSON");
    root["cases"].as_array().expect("cases").clone()
}

fn tensor<const D: usize>(value: &Value) -> Tensor<D> {
    fn flat(v: &Value, out: &mut Vec<f32>, dims: &mut Vec<usize>, depth: usize) {
        if let Value::Array(items) = v {
            if dims.len() == depth {
                dims.push(items.len());
            }
            items.iter().for_each(|i| flat(i, out, dims, depth + 1));
        } else {
            out.push(v.as_f64().expect("number") as f32);
        }
    }
    let (mut data, mut dims) = (Vec::new(), Vec::new());
    flat(value, &mut data, &mut dims, 0);
    let shape: [usize; D] = dims.try_into().expect("fixture rank");
    Tensor::from_data(TensorData::new(data, shape), &Device::flex())
}

/// A PyTorch-layout `[out, in]` matrix as Burn-layout `[in, out]`.
fn burn_weight(value: &Value) -> Tensor<2> {
    tensor::<2>(value).transpose()
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec::<f32>().expect("f32 data")
}

/// `max |a − b| ≤ tolerance · max(1, max |b|)`.
fn assert_close<const D: usize>(a: Tensor<D>, b: Tensor<D>, tolerance: f32, what: &str) {
    assert_eq!(a.dims(), b.dims(), "{what}: shapes differ");
    let (a, b) = (values(a), values(b));
    let scale = b.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    let diff = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
    assert!(diff <= tolerance * scale, "{what}: max |diff| = {diff:e}");
}

/// Two unchained Linear layers, so both fixture cases (6→4 and 5→7) fit in one model.
#[derive(Module, Debug)]
struct Two {
    p: Linear,
    q: Linear,
}

/// Attaches prebuilt adapters by weight path (and freezes every base).
struct Preset(BTreeMap<String, TriAdapt>);

impl Reparameterizer for Preset {
    type Reparam = TriAdapt;
    fn reparameterize<const D: usize>(
        &mut self,
        path: &str,
        p: Param<Tensor<D>>,
    ) -> (Param<Tensor<D>>, Option<TriAdapt>) {
        (p.set_require_grad(false), self.0.remove(path))
    }
}

/// The fixture's blocks as a `TriAdapt`: A_t, B_t transposed to Burn layout, C blocks as is.
fn adapter(case: &Value) -> TriAdapt {
    let blocks = |key: &str, transpose: bool| -> Vec<Param<Tensor<2>>> {
        let list = case[key].as_array().expect("block list");
        list.iter()
            .map(|v| {
                Param::from_tensor(if transpose {
                    tensor::<2>(v).transpose()
                } else {
                    tensor(v)
                })
            })
            .collect()
    };
    let scaling = case["alpha"].as_f64().expect("alpha");
    TriAdapt {
        a: blocks("a", true),
        b: blocks("b", true),
        c_row: blocks("c_row", false),
        c_col: blocks("c_col", false),
        scaling,
    }
}

fn linear(case: &Value) -> Linear {
    Linear {
        weight: Param::from_tensor(burn_weight(&case["w"])),
        bias: None,
    }
}

fn increments(case: &Value) -> Vec<usize> {
    let sizes: Vec<usize> = case["sizes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_u64().unwrap() as usize)
        .collect();
    sizes
        .iter()
        .enumerate()
        .map(|(i, s)| s - if i == 0 { 0 } else { sizes[i - 1] })
        .collect()
}

fn two_from_fixture() -> (Two, Vec<Value>) {
    let cases = fixture(FIXTURE);
    let model = Two {
        p: linear(&cases[0]),
        q: linear(&cases[1]),
    };
    let preset = [("p.weight", &cases[0]), ("q.weight", &cases[1])].map(|(k, c)| (k.to_string(), adapter(c)));
    (
        model.apply_reparameterization(Preset(preset.into_iter().collect())),
        cases,
    )
}

#[test]
fn triangular_assembly_matches_reference_and_is_block_triangular() {
    let cases = fixture(FIXTURE);
    for case in &cases {
        let ad = adapter(case);
        let vals = |v: &Vec<Param<Tensor<2>>>| v.iter().map(|p| p.val()).collect::<Vec<_>>();
        let (l, u) = assemble(vals(&ad.c_row), vals(&ad.c_col));
        assert_close(l, tensor(&case["l"]), TOLERANCE, "L");
        assert_close(u, tensor(&case["u"]), TOLERANCE, "U");
        assert_close(ad.c(), tensor(&case["c"]), TOLERANCE, "C");
        assert_eq!(ad.sizes(), increments(case));
    }
    // sizes [1, 3, 5]: the zero pattern of check_formulas.py, on the Burn assembly.
    let ad = adapter(&cases[0]);
    let vals = |v: &Vec<Param<Tensor<2>>>| v.iter().map(|p| p.val()).collect::<Vec<_>>();
    let (l, u) = assemble(vals(&ad.c_row), vals(&ad.c_col));
    let zero = |t: Tensor<2>, rows: std::ops::Range<usize>, cols: std::ops::Range<usize>| {
        assert!(values(t.slice([rows, cols])).iter().all(|v| *v == 0.0))
    };
    zero(l.clone(), 0..1, 1..5);
    zero(l, 1..3, 3..5);
    zero(u.clone(), 1..5, 0..1);
    zero(u, 3..5, 1..3);
}

#[test]
fn delta_forward_merge_unmerge_scores_and_penalty_match_reference() {
    let (model, cases) = two_from_fixture();
    let layers_out = [(&model.p, &cases[0]), (&model.q, &cases[1])];
    for (layer, case) in layers_out {
        let ad = layer.weight.reparameterization::<TriAdapt>().expect("attached");
        assert_close(ad.delta(), burn_weight(&case["delta"]), TOLERANCE, "ΔW (Burn layout)");
        // PyTorch y = x W'ᵀ is x·W' in Burn layout.
        assert_close(
            layer.forward(tensor::<2>(&case["x"])),
            tensor(&case["y"]),
            TOLERANCE,
            "forward",
        );
    }
    let pattern = rank_pattern(&model);
    assert_eq!(pattern["p"], increments(&cases[0]));
    assert_eq!(pattern["q"], increments(&cases[1]));
    let config = TriAdaptConfig::new(TargetModules::Names(vec!["p".into(), "q".into()])).with_schedule(0, 1, 10);
    let allocator = RankAllocator::new(&config, &model).expect("allocator");
    for (module, case) in [("p", &cases[0]), ("q", &cases[1])] {
        let expected = case["c_norm"].as_f64().unwrap() / case["sizes"].as_array().unwrap().len() as f64;
        assert!(
            (allocator.v_prev[module] - expected).abs() < 1e-5 * expected,
            "v {module}"
        );
    }
    assert_eq!(allocator.total_rank, 5 + 4);
    let orth: Vec<f64> = cases
        .iter()
        .flat_map(|c| c["orth"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()))
        .collect();
    let penalty = values(orthogonality_penalty(&model).expect("adapters"))[0] as f64;
    let expected = orth.iter().sum::<f64>() / 4.0;
    assert!(
        (penalty - expected).abs() < 1e-5 * expected,
        "penalty {penalty} vs {expected}"
    );

    let adapters: Vec<TriAdapt> = [&model.p, &model.q]
        .map(|l| l.weight.reparameterization::<TriAdapt>().cloned().unwrap())
        .into();
    let merged = model.materialize();
    assert!(merged.p.weight.reparameterization::<TriAdapt>().is_none());
    let layers = [(&merged.p, &cases[0]), (&merged.q, &cases[1])];
    for ((layer, case), ad) in layers.into_iter().zip(&adapters) {
        let w = layer.weight.val();
        assert_close(w.clone(), burn_weight(&case["merged"]), TOLERANCE, "merge");
        let unmerged = unmerge_triadapt(w, ad);
        assert_close(unmerged, burn_weight(&case["w"]), TOLERANCE, "unmerge");
    }
}

#[test]
fn schedules_give_expected_counts_and_thresholds() {
    let root: Value = serde_json::from_str(FIXTURE).unwrap();
    for case in root["schedule"].as_array().unwrap() {
        let growth = if case["growth"] == "linear" {
            RankGrowth::Linear
        } else {
            RankGrowth::Exponential
        };
        let get = |k: &str| case[k].as_u64().unwrap() as usize;
        let n = schedule_count(growth, get("remaining"), case["m"].as_f64().unwrap(), get("n_layers"));
        assert_eq!(n, get("n"), "{case}");
    }
    // Hand-computed: linear 20·0.25 = 5; exponential 20^0.5 = 4.47 → 4; clamp to [1, n_layers].
    assert_eq!(schedule_count(RankGrowth::Linear, 20, 0.25, 8), 5);
    assert_eq!(schedule_count(RankGrowth::Exponential, 20, 0.5, 8), 4);
    assert_eq!(schedule_count(RankGrowth::Linear, 3, 0.1, 8), 1);
    let scores: BTreeMap<String, f64> = [("a", 0.5), ("b", 0.2), ("c", 0.5), ("d", 0.1)]
        .map(|(k, v)| (k.to_string(), v))
        .into();
    assert_eq!(select_by_threshold(&scores, 1), ["a", "c"], "ties grow together");
    assert_eq!(select_by_threshold(&scores, 3), ["a", "b", "c"]);
    let parsed: TriAdaptConfig =
        serde_json::from_str(r#"{"target_modules": "l[12]", "rank_growth": "non-linear"}"#).unwrap();
    assert_eq!(
        (parsed.rank_growth, parsed.increment(), parsed.scaling()),
        (RankGrowth::Exponential, 4, 8.0)
    );
    let unknown = r#"{"target_modules": "l1", "top_k": 1}"#;
    assert!(serde_json::from_str::<TriAdaptConfig>(unknown).is_err());
}
