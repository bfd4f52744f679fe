//! `plasticity continual` on the bundled MNIST: Split MNIST with two tasks, class-incremental
//! and domain-incremental, with and without EWC. The accuracy matrix has a row at
//! initialisation and one per task; each task directory is a run directory that `eval` reads;
//! class-incremental naive training forgets the first task entirely (the known result).

mod common;

use common::{config, temp_dir};
use plasticity::train::continual::train_stream;
use plasticity::train::RunOptions;

const STREAM: &str = include_str!("support/split-stream.toml");

fn opts() -> RunOptions {
    RunOptions {
        quiet: true,
        ..Default::default()
    }
}

#[test]
fn class_incremental_split_mnist_forgets_the_first_task() {
    let dir = temp_dir("continual-class");
    let text = format!("{STREAM}scenario = \"class\"\n");
    let summary = train_stream(&config(&text, &dir), &opts()).unwrap();
    let r = summary.matrix.as_ref().unwrap().rows();
    assert_eq!(r.len(), 3, "row 0 at initialisation, then one per task");
    assert!(r[1][0] > 0.95 && r[2][1] > 0.9, "each task learned: {r:?}");
    assert!(r[2][0] < 0.05, "class-incremental naive training forgets task 0: {r:?}");
    let m = summary.metrics.as_ref().unwrap();
    assert!((m.backward_transfer.unwrap() - (r[2][0] - r[1][0])).abs() < 1e-12);
    assert_eq!(summary.tasks, vec!["split-0-1", "split-2-3"]);
    let results: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["accuracy_matrix"].as_array().unwrap().len(), 3);
    assert!(results["metrics"]["forgetting_chaudhry"].as_f64().is_some());
    // Each task directory is a run directory: eval reads it and finds the matrix's diagonal.
    let task0 = dir.join("task-0");
    let task_config = plasticity::train::load_config(&task0.join("config.toml"), &[]).unwrap();
    let eval = plasticity::train::commands::evaluate_run(&task0, &task_config).unwrap();
    assert!((eval.accuracy - r[1][0]).abs() < 1e-9, "{} vs {}", eval.accuracy, r[1][0]);
}

#[test]
fn domain_incremental_with_ewc_forgets_less_than_without() {
    let text = format!("{STREAM}scenario = \"domain\"\n");
    let naive = train_stream(&config(&text, &temp_dir("continual-domain")), &opts()).unwrap();
    let with_ewc = format!("{text}[ewc]\nlambda = 1000.0\nfisher = \"empirical\"\nsamples = 500\n");
    let ewc = train_stream(&config(&with_ewc, &temp_dir("continual-domain-ewc")), &opts()).unwrap();
    let (f_naive, f_ewc) = (naive.metrics.unwrap().forgetting_avalanche.unwrap(), ewc.metrics.unwrap().forgetting_avalanche.unwrap());
    assert!(f_ewc < f_naive, "EWC forgetting {f_ewc} vs naive {f_naive}");
}

/// Task-incremental: each task's logits are masked to its classes, so a task once learned
/// stays far above chance (the masks keep the new classes from taking over its predictions).
#[test]
fn task_incremental_split_mnist_keeps_old_tasks() {
    let text = format!("{STREAM}scenario = \"task\"\n");
    let summary = train_stream(&config(&text, &temp_dir("continual-task")), &opts()).unwrap();
    let r = summary.matrix.as_ref().unwrap().rows();
    assert!(r[1][0] > 0.95 && r[2][1] > 0.9, "{r:?}");
    assert!(r[2][0] > 0.6, "task 0 with its mask after task 1: {r:?}");
}

/// An online stream in the compact layout: three permuted tasks of 300 examples each (each task
/// its own subset), seen once at batch 4, no test matrix. New-task accuracy is prequential: the
/// training accuracy of the task's one epoch, each batch scored before its update; the
/// diagnostics are there for every row, and every 25 steps in `diagnostics.jsonl`.
#[test]
fn an_online_stream_reports_prequential_accuracy_without_a_matrix() {
    let dir = temp_dir("continual-online");
    let text = "name = \"online\"\nseed = 2\n[data]\nvalid_size = 200\nnormalize = false\ntrain_subset = 300\n\
                [model]\nkind = \"mlp\"\nhidden = [32]\n[optimizer]\nkind = \"sgd\"\nlr = 0.05\n[train]\nepochs = 1\nbatch_size = 4\n\
                [continual]\nlayout = \"compact\"\nevaluate = \"none\"\nnew_task_accuracy = \"prequential\"\nprobe_examples = 100\n\
                diagnose_every = 25\n[continual.stream]\nkind = \"permuted-mnist\"\ntasks = 3\n";
    let summary = train_stream(&config(text, &dir), &opts()).unwrap();
    assert!(summary.matrix.is_none() && summary.metrics.is_none());
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(dir.join("tasks.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    for (k, line) in lines.iter().enumerate().skip(1) {
        let epoch = &line["last_epoch"];
        assert_eq!(epoch["train_examples"], 300, "task {k}: one pass over its 300 examples");
        assert_eq!(line["new_task_accuracy"], epoch["train_accuracy"], "prequential = the one epoch's training accuracy");
        assert_eq!(summary.new_task_accuracy[k - 1], epoch["train_accuracy"].as_f64().unwrap());
        assert!(line["accuracies"].as_array().unwrap().is_empty());
        assert_eq!(line["diagnostics"]["layers"][0]["units"], 32);
    }
    let results: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("results.json")).unwrap()).unwrap();
    assert!(results["metrics"].is_null() && results["accuracy_matrix"].as_array().unwrap().is_empty());
    assert!(dir.join("plasticity.png").exists() && !dir.join("accuracy-matrix.png").exists());
    // Every 25 steps inside the tasks (75 steps each): steps 25, 50, …, 225, with their task.
    let steps: Vec<(u64, u64)> = std::fs::read_to_string(dir.join("diagnostics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["task"].as_u64().unwrap(), v["step"].as_u64().unwrap())
        })
        .collect();
    let expected: Vec<(u64, u64)> = (1..=9).map(|i| ((25 * i - 1) / 75, 25 * i)).collect();
    assert_eq!(steps, expected);
}
