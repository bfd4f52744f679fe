//! Sparse inference on the CPU: LeNet-300-100 (784-300-100-10, ReLU), the 10,000 MNIST test
//! images (bundled, standardized as runs do), forward in evaluation batches of 1,000, with every
//! weight pruned by global magnitude to 80, 90, 95 and 98 % sparsity. The dense forward (Burn's
//! matmul on flex) against the same model with its Linear layers computed by `[prune]`'s sparse
//! kernel (`CsrLinear` through the `SparseLinears` hook, as `eval` uses it), in one process;
//! medians of `--repeats` passes over the test set, and the largest output difference.
//!
//! `cargo bench --bench sparse [-- --repeats N]` writes `target/bench/sparse.json`
//! (docs/benchmarks.md, "Sparse inference").

mod common;

use common::median;
use plasticity::burn::tensor::{Device, Tensor, TensorData};
use plasticity::core::{Hooks, PlasticModel, host_values, set_params, walk_params};
use plasticity::data::{ImageSet, MNIST_MEAN, MNIST_STD, bundled_mnist};
use plasticity::models::{Mlp, MlpConfig};
use plasticity::prune::kernel::{CsrLinear, SparseLinears};
use plasticity::prune::magnitude::global_magnitude;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

const EVAL_BATCH: usize = 1000;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map_or(default, |v| v.parse().expect(name))
}

/// `model` with its three weights pruned to `sparsity` by global magnitude, and its sparse layers.
fn pruned(model: &Mlp, sparsity: f64, device: &Device) -> (Mlp, SparseLinears) {
    let mut weights = BTreeMap::new();
    let mut biases = BTreeMap::new();
    walk_params(model, true, |info, value| {
        let v = host_values(value.and_then(|v| v.flatten()).expect("rank ≤ 4"));
        match info.path.ends_with("weight") {
            true => weights.insert(info.path.clone(), (v, info.shape.clone())),
            false => biases.insert(info.path.clone(), (v, info.shape.clone())),
        };
    });
    let paths: Vec<String> = weights.keys().cloned().collect();
    let refs: Vec<&[f32]> = paths.iter().map(|p| weights[p].0.as_slice()).collect();
    let masks = global_magnitude(&refs, sparsity);
    let mut values = BTreeMap::new();
    let mut layers = BTreeMap::new();
    for (p, m) in paths.iter().zip(&masks) {
        let (w, shape) = &weights[p];
        let kept: Vec<f32> = w.iter().zip(m).map(|(w, &k)| if k { *w } else { 0.0 }).collect();
        let module = p.strip_suffix(".weight").expect("a weight");
        let bias = biases.get(&format!("{module}.bias")).map(|b| b.0.clone());
        layers.insert(module.to_string(), Some(Arc::new(CsrLinear::from_dense(&kept, shape[0], shape[1], bias))));
        values.insert(p.clone(), Tensor::<1>::from_data(TensorData::new(kept.clone(), [kept.len()]), device));
    }
    let model = set_params(model.clone(), values);
    let by_point = model.linear_points().iter().map(|p| layers.remove(p).flatten()).collect();
    (model, SparseLinears(Arc::new(by_point)))
}

fn main() {
    // As the CLI does at start (glibc keeps freed buffers: no page faults on every copy).
    plasticity::train::device::tune_cpu_process();
    let repeats = arg("--repeats", 9);
    let device = Device::flex();
    let mut test = ImageSet::from_split(&bundled_mnist().expect("bundled MNIST").test);
    test.normalize(MNIST_MEAN, MNIST_STD).expect("normalize");
    let n = test.labels.len();
    let d = test.rows * test.cols;
    let batches: Vec<Tensor<2>> = test
        .features
        .chunks(EVAL_BATCH * d)
        .map(|c| Tensor::<2>::from_data(TensorData::new(c.to_vec(), [c.len() / d, d]), &device))
        .collect();
    let model = MlpConfig {
        hidden: vec![300, 100],
        ..MlpConfig::default()
    }
    .init(&device);
    let pass = |m: &Mlp, hooks: &Hooks| -> (f64, Vec<f32>) {
        let start = Instant::now();
        let outs: Vec<Tensor<2>> = batches.iter().map(|x| m.forward_hooked(x.clone(), hooks)).collect();
        device.sync().expect("sync");
        let ms = start.elapsed().as_secs_f64() * 1e3;
        (ms, outs.into_iter().flat_map(host_values).collect())
    };
    let mut rows = Vec::new();
    for sparsity in [0.8, 0.9, 0.95, 0.98] {
        let (m, sparse) = pruned(&model, sparsity, &device);
        let sparse = Hooks::new(vec![Box::new(sparse)]);
        let none = Hooks::none();
        let (mut dense_ms, mut sparse_ms) = (Vec::new(), Vec::new());
        let mut max_diff = 0.0f32;
        for repeat in 0..=repeats {
            let (td, yd) = pass(&m, &none);
            let (ts, ys) = pass(&m, &sparse);
            max_diff = yd.iter().zip(&ys).fold(max_diff, |a, (x, y)| a.max((x - y).abs()));
            if repeat > 0 {
                dense_ms.push(td);
                sparse_ms.push(ts);
            }
        }
        let (dense, sparse) = (median(&dense_ms), median(&sparse_ms));
        rows.push(serde_json::json!({
            "sparsity": sparsity,
            "dense_ms": dense,
            "sparse_ms": sparse,
            "speedup": dense / sparse,
            "max_abs_output_difference": max_diff,
        }));
        assert!(max_diff <= 1e-5 * (1.0 + yd_scale(&m, &batches[0])), "outputs differ by {max_diff}");
    }
    let out = serde_json::json!({
        "model": "LeNet-300-100 (784-300-100-10), global magnitude pruning of all three weights",
        "data": format!("MNIST test set, {n} images, evaluation batches of {EVAL_BATCH}"),
        "threads": rayon_threads(),
        "repeats": repeats,
        "rows": rows,
    });
    println!("{}", serde_json::to_string_pretty(&out).expect("json"));
    std::fs::create_dir_all("target/bench").expect("target/bench");
    std::fs::write("target/bench/sparse.json", serde_json::to_string_pretty(&out).expect("json")).expect("write");
    write_section(&out, repeats);
}

/// Replaces docs/benchmarks.md's sparse-inference section (between its markers) with this run.
fn write_section(out: &serde_json::Value, repeats: usize) {
    const BEGIN: &str = "<!-- sparse:begin -->";
    const END: &str = "<!-- sparse:end -->";
    let path = "docs/benchmarks.md";
    let Ok(doc) = std::fs::read_to_string(path) else { return };
    let (Some(a), Some(b)) = (doc.find(BEGIN), doc.find(END)) else { return };
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| c.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
        .unwrap_or_else(|| "unknown".into());
    let rows: Vec<String> = out["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            format!(
                "| {:.0} % | {:.1} | {:.1} | {:.2}× | {:.1e} |",
                100.0 * r["sparsity"].as_f64().unwrap_or(0.0),
                r["dense_ms"].as_f64().unwrap_or(0.0),
                r["sparse_ms"].as_f64().unwrap_or(0.0),
                r["speedup"].as_f64().unwrap_or(0.0),
                r["max_abs_output_difference"].as_f64().unwrap_or(0.0)
            )
        })
        .collect();
    let section = format!(
        "\n## Sparse inference on the CPU\n\nWritten by `cargo bench --bench sparse -- --repeats {repeats}` (benches/sparse.rs; JSON in \
         `target/bench/sparse.json`): {}; {}; the dense forward (flex's matmul) \
         against `[prune]`'s sparse kernel (`CsrLinear` through the linear-point hook, as `eval` uses it) in one process, \
         {} threads, {cpu}; medians of {repeats} passes over the test set. Target: ≥ 3× at 98 %.\n\n\
         | sparsity | dense (ms) | sparse (ms) | speed-up | largest output difference |\n| ---: | ---: | ---: | ---: | ---: |\n{}\n",
        out["model"].as_str().unwrap_or(""),
        out["data"].as_str().unwrap_or(""),
        out["threads"],
        rows.join("\n")
    );
    let doc = format!("{}{BEGIN}{section}{}", &doc[..a], &doc[b..]);
    std::fs::write(path, doc).expect("docs/benchmarks.md");
}

/// The largest |output| of the model on one batch (the tolerance is relative to it).
fn yd_scale(m: &Mlp, x: &Tensor<2>) -> f32 {
    host_values(m.forward(x.clone())).iter().fold(0.0f32, |a, v| a.max(v.abs()))
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
