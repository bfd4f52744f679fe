//! Sparse training on the bundled MNIST: the final nnz is the schedule formula's count (global
//! and per layer), pruned weights and their optimizer state are exactly 0 after training,
//! GraNet's regeneration keeps every layer's count, and RigL keeps its constant sparsity.

mod common;

use common::{SMALL, config, temp_dir};
use plasticity::core::TensorState;
use plasticity::train::{RunOptions, train};
use serde_json::Value;

fn quiet() -> RunOptions {
    RunOptions {
        quiet: true,
        ..Default::default()
    }
}

/// SMALL (3000 images, batch 64: 47 steps per epoch, 141 in all) with a [prune] table.
fn run(name: &str, prune: &str) -> (std::path::PathBuf, Value) {
    let dir = temp_dir(name);
    let text = format!("{SMALL}\n[prune]\n{prune}\n");
    let summary = train(&config(&text, &dir), &quiet()).unwrap();
    assert!(summary.results.test_accuracy.unwrap() > 0.7, "{name}: {:?}", summary.results.test_accuracy);
    let section = summary.results.methods["prune"].clone();
    (dir, section)
}

fn masks(dir: &std::path::Path) -> Vec<(String, Vec<bool>)> {
    let state = TensorState::load(&dir.join("methods.bpk")).unwrap();
    let state = plasticity::core::state::unbundle(state).remove("prune").unwrap();
    let paths: Vec<String> = serde_json::from_value(state.meta["paths"].clone()).unwrap();
    paths
        .into_iter()
        .map(|p| {
            let m = state.get_vec(&format!("{p}/mask")).unwrap().into_iter().map(|x| x != 0.0).collect();
            (p, m)
        })
        .collect()
}

/// The final checkpoint's optimizer buffers of `path`, by name.
fn optimizer_buffers(dir: &std::path::Path, path: &str) -> Vec<(String, Vec<f32>)> {
    let state = TensorState::load(&dir.join("checkpoint/optim-3.bpk")).unwrap();
    state
        .tensors
        .keys()
        .filter_map(|k| k.strip_prefix(&format!("{path}/")).map(|b| (b.to_string(), state.get_vec(k).unwrap())))
        .collect()
}

fn weights(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<f32>> {
    let device = plasticity::burn::tensor::Device::flex();
    let model = plasticity::models::MlpConfig {
        hidden: vec![64],
        ..Default::default()
    }
    .init(&device);
    let model = plasticity::train::load_model_file(model, &dir.join("model.bpk")).unwrap();
    let mut out = std::collections::BTreeMap::new();
    plasticity::core::walk_params(&model, true, |info, v| {
        out.insert(info.path.clone(), v.unwrap().into_data().convert::<f32>().try_to_vec::<f32>().unwrap());
    });
    out
}

#[test]
fn gmp_reaches_the_formula_count_and_pruned_entries_are_zero() {
    // Global: t_f = 100, ΔT = 20 → events at 20 … 80 (k = 1 … 4, n = 5); the last targets
    // s = 0.9·(1 − (1/5)³) = 0.8928.
    let (dir, section) = run("prune-gmp", "method = \"gmp\"\nfinal_sparsity = 0.9\nend = 100\nfrequency = 20");
    let s = section["schedule_final_sparsity"].as_f64().unwrap();
    assert!((s - 0.9 * (1.0 - 0.2f64.powi(3))).abs() < 1e-12);
    let total = section["global"]["total"].as_u64().unwrap() as f64;
    let keep = (total * (1.0 - s)) as u64;
    // The strict cut-off keeps keep − 1 (distinct magnitudes, the cut-off element dropped).
    assert_eq!(section["global"]["nnz"].as_u64().unwrap(), keep - 1, "{section}");
    assert_eq!(section["events"], 4);
    let w = weights(&dir);
    for (path, mask) in masks(&dir) {
        let values = &w[&path];
        assert!(mask.iter().zip(values).all(|(&m, &v)| m || v == 0.0), "{path}: pruned weights are 0");
        for (buffer, v) in optimizer_buffers(&dir, &path) {
            assert!(mask.iter().zip(&v).all(|(&m, &x)| m || x == 0.0), "{path}/{buffer}: zero at pruned positions");
        }
    }
    // `plasticity inspect --run` shows the per-layer density.
    let run_config = plasticity::train::load_config(&dir.join("config.toml"), &[]).unwrap();
    let table = plasticity::train::commands::inspect_run(&dir, &run_config).unwrap();
    let nnz = section["global"]["nnz"].as_u64().unwrap();
    assert!(table.contains("weight densities") && table.contains(&format!("{nnz} / {}", total as u64)), "{table}");
    // Per layer: every layer at the same count.
    let (_, section) = run("prune-gmp-layer", "method = \"gmp\"\nfinal_sparsity = 0.9\nend = 100\nfrequency = 20\nscope = \"layer\"");
    for layer in section["layers"].as_array().unwrap() {
        let n = layer["total"].as_u64().unwrap() as f64;
        assert_eq!(layer["nnz"].as_u64().unwrap(), (n * (1.0 - s)) as u64 - 1, "{layer}");
    }
}

#[test]
fn granet_regrows_as_many_as_it_drops_and_rigl_keeps_its_sparsity() {
    // GraNet: GMP until step 60, regeneration every 20 steps to the end (141 steps).
    let (_, section) = run("prune-granet", "method = \"granet\"\nfinal_sparsity = 0.8\nend = 60\nfrequency = 20");
    let events = section["events"].as_u64().unwrap();
    assert_eq!(events, 7, "steps 20, 40, … 140: {section}");
    let (dir, _) = run("prune-granet-2", "method = \"granet\"\nfinal_sparsity = 0.8\nend = 60\nfrequency = 20");
    let state = TensorState::load(&dir.join("methods.bpk")).unwrap();
    let state = plasticity::core::state::unbundle(state).remove("prune").unwrap();
    let events: Vec<Value> = serde_json::from_value(state.meta["events"].clone()).unwrap();
    // After the last GMP event (step 40), regeneration alone: each layer's count is unchanged.
    let after: Vec<&Value> = events.iter().filter(|e| e["target_sparsity"].is_null()).collect();
    assert!(after.len() >= 4);
    for e in &after {
        assert_eq!(e["nnz"], after[0]["nnz"], "regrown = dropped, per layer");
    }
    // RigL: ERK at 90 % from the start, constant through its mask updates.
    let (_, section) = run("prune-rigl", "method = \"rigl\"\nfinal_sparsity = 0.9\nfrequency = 20");
    let by_event: Vec<f64> = section["sparsity_by_event"].as_array().unwrap().iter().map(|e| e[1].as_f64().unwrap()).collect();
    assert!(!by_event.is_empty());
    assert!(by_event.windows(2).all(|w| w[0] == w[1]), "{by_event:?}");
    assert!((by_event[0] - 0.9).abs() < 0.01, "{by_event:?}");
}

/// RigL on the CNN: ERK densities at 90 % drawn as exact counts, which RigL's drop-and-grow keeps
/// per layer to the end (ε = 3532/559, no layer dense: crates/prune/src/erk.rs).
#[test]
fn rigl_on_the_cnn_keeps_the_erk_counts() {
    let text = SMALL.replace("kind = \"mlp\"\nhidden = [64]", "kind = \"cnn\"");
    assert!(text.contains("kind = \"cnn\""));
    let dir = temp_dir("prune-cnn");
    let summary = train(&config(&format!("{text}\n[prune]\nmethod = \"rigl\"\nfinal_sparsity = 0.9\nfrequency = 20\n"), &dir), &quiet()).unwrap();
    let section = &summary.results.methods["prune"];
    let eps = 3532.0 / 559.0;
    let expected = [(200.0, 19.0), (3200.0, 34.0), (30720.0, 376.0), (1200.0, 130.0)].map(|(n, s): (f64, f64)| (eps * s / n * n) as u64);
    let nnz: Vec<u64> = section["layers"].as_array().unwrap().iter().map(|l| l["nnz"].as_u64().unwrap()).collect();
    assert_eq!(nnz, expected, "{section}");
    assert!(section["events"].as_u64().unwrap() >= 3);
}

/// A weight that `[peft]` adapts cannot be pruned (the error names it), and `[prune]` with
/// `[cbp]` is refused.
#[test]
fn pruning_a_reparameterized_weight_or_with_cbp_is_refused() {
    let dir = temp_dir("prune-lora");
    let text = format!("{SMALL}\n[peft]\nmethod = \"lora\"\ntarget_modules = [\"hidden.0\"]\n[prune]\nmethod = \"gmp\"\nfinal_sparsity = 0.5\n");
    let e = train(&config(&text, &dir), &quiet()).err().unwrap().to_string();
    assert!(e.contains("hidden.0.weight") && e.contains("lora"), "{e}");
    let text = format!("{SMALL}\n[cbp]\n[prune]\nmethod = \"gmp\"\nfinal_sparsity = 0.5\n");
    let e = plasticity::train::parse_config(&text, "run.toml", &[]).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("prune") && e.contains("cbp"), "{e}");
}

/// The MLP of SMALL with the values of `tensors` (by path).
fn mlp_with(tensors: &[plasticity::prune::format::NamedTensor], device: &plasticity::burn::tensor::Device) -> plasticity::models::Mlp {
    use plasticity::burn::tensor::{Tensor, TensorData};
    let model = plasticity::models::MlpConfig { hidden: vec![64], ..Default::default() }.init(device);
    let values = tensors
        .iter()
        .map(|t| (t.name.clone(), Tensor::<1>::from_data(TensorData::new(t.values.clone(), [t.values.len()]), device)))
        .collect();
    plasticity::core::set_params(model, values)
}

/// One-shot SNIP, SynFlow and magnitude pruning of a trained run at 90 % (no fine-tuning): each
/// removes its formula's count (torch.prune's `round` for magnitude, the repo's `int` for the
/// scored ones) and the model's weights hold the zeros; then the compact export reads back into
/// a model whose outputs equal the saved model's bit for bit, in a file far smaller than dense.
#[test]
fn one_shot_pruning_of_a_trained_run_and_the_compact_file_round_trip() {
    use plasticity::burn::tensor::{Device, Tensor, TensorData};
    let base_dir = temp_dir("prune-base");
    let base = config(SMALL, &base_dir);
    train(&base, &quiet()).unwrap();
    let total = 784 * 64 + 64 * 10;
    for (method, pruned) in [("magnitude", (0.9 * total as f64).round() as usize), ("snip", (0.9 * total as f64) as usize), ("synflow", (0.9 * total as f64) as usize)] {
        let out = temp_dir(&format!("prune-{method}"));
        let c = plasticity::train::prune::prune_config(&base_dir, base.clone(), method, 0.9, 0, Some(out.clone())).unwrap();
        let s = train(&c, &quiet()).unwrap();
        let section = &s.results.methods["prune"];
        assert_eq!(section["global"]["nnz"].as_u64().unwrap() as usize, total - pruned, "{method}: {section}");
        let zeros: usize = weights(&out).iter().filter(|(p, _)| p.ends_with("weight")).map(|(_, w)| w.iter().filter(|&&x| x == 0.0).count()).sum();
        assert_eq!(zeros, pruned, "{method}: the model holds the zeros");
        if method != "magnitude" {
            continue;
        }
        let files = plasticity::train::commands::export_run(&out, &c, &out.join("export")).unwrap();
        assert!(files.iter().any(|f| f.ends_with("pruned.sparse")) && files.iter().any(|f| f.ends_with("pruned.bpk")));
        let sparse = out.join("export/pruned.sparse");
        let tensors = plasticity::prune::format::read(&sparse).unwrap();
        let device = Device::flex();
        let from_sparse = mlp_with(&tensors, &device);
        let saved = plasticity::train::load_model_file(plasticity::models::MlpConfig { hidden: vec![64], ..Default::default() }.init(&device), &out.join("model.bpk")).unwrap();
        let x = Tensor::<2>::from_data(TensorData::new((0..8 * 784).map(|i| ((i * 37 % 101) as f32) / 50.0 - 1.0).collect::<Vec<_>>(), [8, 784]), &device);
        use plasticity::core::PlasticModel;
        let (a, b) = (plasticity::core::host_values(from_sparse.forward(x.clone())), plasticity::core::host_values(saved.forward(x.clone())));
        assert_eq!(a, b, "identical outputs");
        // pruned.bpk loads into the plain model (no [prune]) and computes the same.
        let folded = plasticity::train::load_model_file(plasticity::models::MlpConfig { hidden: vec![64], ..Default::default() }.init(&device), &out.join("export/pruned.bpk")).unwrap();
        assert_eq!(plasticity::core::host_values(folded.forward(x)), a, "pruned.bpk computes the same");
        let dense = std::fs::metadata(out.join("export/pruned.bpk")).unwrap().len();
        let compact = std::fs::metadata(&sparse).unwrap().len();
        // 5,082 of 50,816 weights kept: a bitmask (6,352 bytes) and their values, against 4 bytes each.
        assert!(compact * 4 < dense, "{compact} vs {dense} bytes");
    }
}

/// Evaluation with the sparse kernel (`sparse_kernel = "always"`) against the dense layers
/// (`"never"`) on a 95 % sparse run: the same accuracy, the loss within 1e-5.
#[test]
fn sparse_kernel_evaluation_matches_dense() {
    let (dir, _) = run("prune-kernel", "method = \"gmp\"\nfinal_sparsity = 0.95\nend = 100\nfrequency = 20");
    let config = |kernel: &str| plasticity::train::parse_config(&std::fs::read_to_string(dir.join("config.toml")).unwrap(), "config.toml", &[format!("prune.sparse_kernel=\"{kernel}\"")]).unwrap();
    let sparse = plasticity::train::commands::evaluate_run(&dir, &config("always")).unwrap();
    let dense = plasticity::train::commands::evaluate_run(&dir, &config("never")).unwrap();
    assert_eq!(sparse.accuracy, dense.accuracy);
    assert!((sparse.loss - dense.loss).abs() < 1e-5, "{} vs {}", sparse.loss, dense.loss);
}
