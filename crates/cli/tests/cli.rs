//! The `plasticity` binary as a user meets it: one clear line and a non-zero exit for bad input,
//! and a run killed with SIGKILL that resumes.

#[path = "../../../tests/support/kill.rs"]
mod kill;

use kill::{interrupt_after, kill_after, kill_inside_epoch_3};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_plasticity"));
    cmd.env_remove("RUST_LOG").env_remove("PLASTICITY_DEVICE");
    cmd
}

fn temp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

fn shared_mnist() -> PathBuf {
    let dir = std::env::var_os("PLASTICITY_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo("../shared/data"))
        .join("mnist");
    assert!(
        dir.is_dir(),
        "real MNIST files missing at {} (set PLASTICITY_DATA)",
        dir.display()
    );
    dir
}

/// Exit code 1 and exactly one line on stderr, starting with `error:`, containing every `needle`.
fn assert_one_line_error(out: &Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    for needle in needles {
        assert!(lines[0].contains(needle), "`{needle}` not in: {stderr}");
    }
    assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"));
}

#[test]
fn misspelt_config_key_names_key_and_line() {
    let dir = temp("misspelt");
    let config = dir.join("bad.toml");
    std::fs::write(
        &config,
        "name = \"x\"\n\n[optimizer]\nkind = \"adam\"\nlearning_rate = 0.1\n",
    )
    .unwrap();
    let out = bin().arg("train").arg(&config).output().unwrap();
    assert_one_line_error(
        &out,
        &[
            "bad.toml:5:1",
            "unknown field `learning_rate`",
            "expected one of",
            "`lr`",
        ],
    );
}

#[test]
fn invalid_value_and_bad_override_are_named() {
    let dir = temp("invalid");
    let config = dir.join("c.toml");
    std::fs::write(&config, "[train]\nepochs = 0\n").unwrap();
    let out = bin().arg("train").arg(&config).output().unwrap();
    assert_one_line_error(&out, &["c.toml:2", "train.epochs", "at least 1"]);
    let out = bin()
        .args(["train"])
        .arg(repo("configs/quickstart.toml"))
        .args(["--set", "train.epochs=many"])
        .output()
        .unwrap();
    assert_one_line_error(&out, &["--set train.epochs=many", "expected usize"]);
}

#[test]
#[ignore = "needs the full MNIST files (../shared/data beside the repository, or PLASTICITY_DATA); run with `cargo test --workspace -- --include-ignored`"]
fn truncated_idx_file_is_named() {
    let dir = temp("truncated");
    let mnist = dir.join("mnist");
    std::fs::create_dir_all(&mnist).unwrap();
    for name in [
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ] {
        std::fs::copy(shared_mnist().join(name), mnist.join(name)).unwrap();
    }
    let full = std::fs::read(shared_mnist().join("train-images-idx3-ubyte.gz")).unwrap();
    std::fs::write(mnist.join("train-images-idx3-ubyte.gz"), &full[..full.len() / 3]).unwrap();
    let out = bin()
        .arg("train")
        .arg(repo("configs/mnist-mlp.toml"))
        .arg("--data-dir")
        .arg(&dir)
        .arg("--output-dir")
        .arg(dir.join("run"))
        .output()
        .unwrap();
    assert_one_line_error(&out, &["train-images-idx3-ubyte.gz"]);
}

const SMALL: &[&str] = &[
    "--set",
    "data.train_subset=2000",
    "--set",
    "data.valid_size=500",
    "--set",
    "model.hidden=[32]",
];

/// `plasticity -q train` of the quickstart config made small, with `extra` flags, into `run`.
fn train_small(run: &Path, extra: &[&str]) -> Output {
    bin()
        .arg("-q")
        .arg("train")
        .arg(repo("configs/quickstart.toml"))
        .args(SMALL)
        .args(extra)
        .arg("--output-dir")
        .arg(run)
        .output()
        .unwrap()
}

#[test]
fn checkpoint_from_a_different_model_is_refused() {
    let dir = temp("mismatch");
    let run = dir.join("run");
    let ok = train_small(&run, &["--set", "train.epochs=1"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    // Resume the run with a wider model: its checkpoint cannot load.
    let out = bin()
        .arg("train")
        .arg(repo("configs/quickstart.toml"))
        .args(SMALL)
        .args(["--set", "model.hidden=[48]", "--resume", "--output-dir"])
        .arg(&run)
        .output()
        .unwrap();
    assert_one_line_error(&out, &["model-1.bpk", "does not fit this model", "shape mismatch"]);
    // Evaluate its model.bpk as a CNN: the same.
    let out = bin()
        .arg("eval")
        .arg("--run")
        .arg(&run)
        .args(["--set", "model={ kind = \"cnn\" }"])
        .output()
        .unwrap();
    assert_one_line_error(&out, &["model.bpk", "does not fit this model"]);
}

#[test]
fn inspect_prints_trainable_table() {
    let out = bin()
        .arg("inspect")
        .arg(repo("configs/quickstart.toml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        stdout.contains("hidden.0.weight") && stdout.contains("[784, 256]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("trainable params: 269322 || all params: 269322 || trainable%: 100.0000"),
        "{stdout}"
    );
}

/// SIGKILL mid-epoch, then `--resume`: the run continues from the last complete checkpoint
/// and finishes with every epoch in results.json.
#[test]
fn sigkill_mid_epoch_then_resume_finishes() {
    let dir = temp("sigkill");
    let run = dir.join("run");
    let args = |cmd: &mut Command| {
        cmd.arg("-q")
            .arg("train")
            .arg(repo("configs/quickstart.toml"))
            .args([
                "--set",
                "data.valid_size=500",
                "--set",
                "train.epochs=30",
                "--set",
                "train.batch_size=32",
            ])
            .arg("--output-dir")
            .arg(&run);
    };
    let mut cmd = bin();
    args(&mut cmd);
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    kill_inside_epoch_3(&mut child, &run, Duration::from_millis(300));

    let mut cmd = bin();
    args(&mut cmd);
    let out = cmd.arg("--resume").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let results: serde_json::Value = serde_json::from_slice(&std::fs::read(run.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["epochs"].as_array().unwrap().len(), 30);
    assert!(results["resumed_after_epoch"].as_u64().unwrap() >= 2);
    assert!(results["test_accuracy"].as_f64().unwrap() > 0.9);
}

/// Flips `count` bytes of `path`, spread over the file.
fn flip_bytes(path: &Path, count: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    let step = (bytes.len() / (count + 1)).max(1);
    for k in 1..=count {
        let at = (k * step).min(bytes.len() - 1);
        bytes[at] ^= 0x55;
    }
    std::fs::write(path, bytes).unwrap();
}

/// Files a run wrote are checked on load: a changed `model.bpk` is a one-line error naming it;
/// a damaged latest checkpoint makes `--resume` continue from the one before, and say so; a
/// file written before checksums existed (no `.sha256` beside it) still loads.
#[test]
fn changed_files_are_named_and_resume_falls_back() {
    let dir = temp("corrupt");
    let run = dir.join("run");
    let train = |extra: &[&str]| train_small(&run, extra);
    let ok = train(&["--set", "train.epochs=2"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(run.join("model.bpk.sha256").exists());

    // 50 changed bytes in model.bpk: eval refuses it, naming the file.
    let model = run.join("model.bpk");
    let intact = std::fs::read(&model).unwrap();
    flip_bytes(&model, 50);
    let out = bin().arg("eval").arg("--run").arg(&run).output().unwrap();
    assert_one_line_error(&out, &["model.bpk", "changed or truncated"]);
    // Truncated: the same.
    std::fs::write(&model, &intact[..intact.len() / 2]).unwrap();
    let out = bin().arg("eval").arg("--run").arg(&run).output().unwrap();
    assert_one_line_error(&out, &["model.bpk", "changed or truncated"]);
    // Without its checksum (a file from an older version) it loads, with a warning.
    std::fs::write(&model, &intact).unwrap();
    std::fs::remove_file(run.join("model.bpk.sha256")).unwrap();
    let out = bin().arg("eval").arg("--run").arg(&run).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no checksum"));

    // A damaged latest checkpoint: --resume continues from epoch 1 and says why.
    flip_bytes(&run.join("checkpoint/optim-2.bpk"), 1);
    let out = train(&["--set", "train.epochs=3", "--resume"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("checkpoint of epoch 2 is unusable") && stderr.contains("optim-2.bpk"),
        "{stderr}"
    );
    let results: serde_json::Value = serde_json::from_slice(&std::fs::read(run.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["resumed_after_epoch"], 1);
    assert_eq!(results["epochs"].as_array().unwrap().len(), 3);
}

/// `inspect --run` shows a finished run's parameter table with each method's rows.
#[test]
fn inspect_run_shows_the_methods_rows() {
    let dir = temp("inspect-run");
    let base = dir.join("base");
    let ok = train_small(&base, &["--set", "train.epochs=1"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let gated = dir.join("gated");
    let init_from = format!("init_from=\"{}\"", base.display());
    let ok = train_small(
        &gated,
        &["--set", "train.epochs=1", "--set", "peft={method=\"taugate\"}", "--set", &init_from],
    );
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let out = bin().arg("inspect").arg("--run").arg(&gated).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("taugate.gates.0.threshold") && stdout.contains("[32]"), "{stdout}");
    assert!(stdout.contains("taugate: 64 params, 64 trainable"), "{stdout}");
    assert!(stdout.contains("base: 25450 params, 0 trainable"), "{stdout}");
}

fn results(run: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(run.join("results.json")).unwrap()).unwrap()
}

/// A weight-normalized run with its data-dependent init, killed with SIGKILL inside epoch 3 and
/// resumed, ends bit-identical to an uninterrupted one: same losses in every epoch, same test
/// accuracy (the resumed run skips the init: the checkpoint holds the initialized model).
#[test]
fn weight_norm_run_resumes_bit_identically_after_sigkill() {
    run_resumes_bit_identically_after_sigkill("reparam-kill", "reparam={ method = \"weight-norm\", data_init = true }");
}

/// A GraNet run (GMP to 90 % and regeneration every 50 steps, its Adam state masked),
/// killed with SIGKILL inside epoch 3 and resumed: bit-identical losses, test accuracy and final
/// per-layer counts; its pruned weights stay exactly 0.
#[test]
fn granet_run_resumes_bit_identically_after_sigkill() {
    let (full, split) = run_resumes_bit_identically_after_sigkill(
        "prune-kill",
        "prune={ method = \"granet\", final_sparsity = 0.9, frequency = 50 }",
    );
    let (a, b) = (results(&full), results(&split));
    assert_eq!(a["prune"]["layers"], b["prune"]["layers"]);
    assert!(a["prune"]["global"]["sparsity"].as_f64().unwrap() > 0.85);
}

/// The quickstart with `method` (a `--set` table) on a small subset, 5 epochs at batch 16,
/// uninterrupted and killed inside epoch 3 then resumed: the same losses in every epoch and
/// the same test accuracy. Returns the two run directories.
fn run_resumes_bit_identically_after_sigkill(name: &str, method: &str) -> (PathBuf, PathBuf) {
    let dir = temp(name);
    let flags = [
        "--set",
        method,
        "--set",
        "data.train_subset=6000",
        "--set",
        "data.valid_size=500",
        "--set",
        "model.hidden=[64]",
        "--set",
        "train.epochs=5",
        "--set",
        "train.batch_size=16",
        "--set",
        "train.keep_checkpoints=5",
    ];
    let train = |run: &Path| {
        let mut cmd = bin();
        cmd.arg("-q").arg("train").arg(repo("configs/quickstart.toml")).args(flags).arg("--output-dir").arg(run);
        cmd
    };
    let (full, split) = full_and_resumed(&dir, train, |child, split| kill_inside_epoch_3(child, split, Duration::from_millis(200)));

    let (a, b) = (results(&full), results(&split));
    assert!(b["resumed_after_epoch"].as_u64().unwrap() >= 2);
    let (ea, eb) = (a["epochs"].as_array().unwrap(), b["epochs"].as_array().unwrap());
    assert_eq!(ea.len(), 5);
    assert_eq!(ea.len(), eb.len());
    for (x, y) in ea.iter().zip(eb) {
        assert_eq!(x["train_loss"], y["train_loss"], "epoch {}", x["epoch"]);
        assert_eq!(x["valid_loss"], y["valid_loss"], "epoch {}", x["epoch"]);
    }
    assert_eq!(a["test_accuracy"], b["test_accuracy"]);
    assert!(a["test_accuracy"].as_f64().unwrap() > 0.9);
    (full, split)
}

/// `merge`, `eval`, `inspect --run` and `export` on a compander run: the merged model has the
/// run's accuracy, the census shows θ in its own rows, the export bakes the compander.
#[test]
fn compander_run_loads_in_every_command() {
    let dir = temp("compander-commands");
    let run = dir.join("run");
    let ok = train_small(&run, &["--set", "train.epochs=1", "--set", "reparam={ method = \"compander\", learn = true }"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let accuracy = results(&run)["test_accuracy"].as_f64().unwrap();

    let out = bin().arg("eval").arg("--run").arg(&run).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let eval: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(eval["accuracy"].as_f64(), Some(accuracy), "{eval}");

    let out = bin().arg("merge").arg("--run").arg(&run).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["max_abs_diff"].as_f64().unwrap() <= 1e-5, "{report}");

    let out = bin().arg("inspect").arg("--run").arg(&run).output().unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("hidden.0.weight.compander.log_theta") && table.contains("compander θ: 4 params, 4 trainable"), "{table}");

    let out = bin().arg("export").arg("--run").arg(&run).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(run.join("export/base.safetensors").exists());
}

/// A stream of three Split MNIST tasks (class-incremental, with EWC so that method state
/// crosses the task boundaries), run whole and run again stopped inside task 2 by `stop`, then
/// resumed. Returns the two run directories.
fn stream_stopped_and_resumed(name: &str, extra: &[&str], stop: impl FnOnce(&mut std::process::Child, &Path)) -> (PathBuf, PathBuf) {
    let dir = temp(name);
    let config = dir.join("stream.toml");
    let text = format!(
        "{}scenario = \"class\"\n[ewc]\nlambda = 10.0\nfisher = \"empirical\"\nsamples = 100\n",
        include_str!("../../../tests/support/split-stream.toml")
    );
    std::fs::write(&config, text).unwrap();
    let run = |out: &Path| {
        let mut cmd = bin();
        cmd.arg("-q").arg("continual").arg(&config).arg("--output-dir").arg(out);
        let sets = ["seed=5", "train.epochs=4", "train.batch_size=8", "train.keep_checkpoints=5", "continual.stream.classes=[[0, 1], [2, 3], [4, 5]]"];
        for set in sets.iter().chain(extra) {
            cmd.arg("--set").arg(set);
        }
        cmd
    };
    let (full, split) = full_and_resumed(&dir, run, stop);

    let read = |d: &Path| -> serde_json::Value { serde_json::from_slice(&std::fs::read(d.join("results.json")).unwrap()).unwrap() };
    let (a, b) = (read(&full), read(&split));
    assert_eq!(a["accuracy_matrix"], b["accuracy_matrix"]);
    assert_eq!(a["metrics"], b["metrics"]);
    assert_eq!(a["diagnostics"], b["diagnostics"], "the plasticity diagnostics too");
    assert_eq!(a["accuracy_matrix"].as_array().unwrap().len(), 4);
    assert_eq!(a["diagnostics"].as_array().unwrap().len(), 4, "one per row of R");
    assert!(split.join("plasticity.png").exists());
    (full, split)
}

/// Per-task layout, SIGKILL inside task 3's third epoch (`task-2/`): the two finished tasks are
/// skipped, the unfinished one continues from its checkpoint, and the accuracy matrix is
/// bit-identical to an uninterrupted stream's.
#[test]
fn stream_resumes_bit_identically_after_sigkill() {
    stream_stopped_and_resumed("stream-kill", &[], |child, split| {
        kill_after(child, &split.join("task-2/checkpoint/history-2.json"), Duration::from_millis(100), &split.join("results.json"));
    });
}

/// Compact layout, Ctrl-C (SIGINT) inside task 2: the stream stops after a checkpoint with exit
/// status 130 and a line saying how to resume; resumed, its R is bit-identical. The compact run
/// keeps one directory: no `task-<k>/`, one line per row in `tasks.jsonl`, the final model.
#[test]
fn compact_stream_stops_on_ctrl_c_and_resumes_bit_identically() {
    let (full, split) = stream_stopped_and_resumed("stream-int", &["continual.layout=\"compact\""], |child, split| {
        // Task 2 (k = 1) starts with its checkpoint, number 1 · (4 + 1) + 0.
        let status = interrupt_after(child, &split.join("checkpoint/history-5.json"), Duration::from_millis(50));
        assert_eq!(status.code(), Some(130), "Ctrl-C ends the stream with status 130");
        let stopped_at: Vec<usize> = std::fs::read_dir(split.join("checkpoint"))
            .unwrap()
            .filter_map(|e| e.unwrap().file_name().into_string().unwrap().strip_prefix("history-")?.strip_suffix(".json")?.parse().ok())
            .collect();
        assert!(stopped_at.iter().any(|&n| n > 5), "a checkpoint inside task 2 or later: {stopped_at:?}");
    });
    for run in [&full, &split] {
        assert!(!run.join("task-0").exists(), "compact: no per-task directories");
        assert!(run.join("model.bpk").exists() && run.join("config.toml").exists());
        let lines = std::fs::read_to_string(run.join("tasks.jsonl")).unwrap();
        assert_eq!(lines.lines().count(), 4, "row 0 and one line per task");
    }
}

/// An online stream with continual backprop in the compact layout (six permuted tasks, one
/// pass at batch 4, no test matrix), killed with SIGKILL during task 3 and resumed: every line
/// of `tasks.jsonl` (prequential accuracy, diagnostics) is bit-identical to an uninterrupted
/// stream's, and so is results.json's record of them.
#[test]
fn online_stream_with_cbp_resumes_bit_identically_after_sigkill() {
    let dir = temp("online-kill");
    let config = dir.join("online.toml");
    std::fs::write(
        &config,
        "name = \"online\"\nseed = 4\n[data]\nvalid_size = 200\nnormalize = false\ntrain_subset = 300\n\
         [model]\nkind = \"mlp\"\nhidden = [32]\n[optimizer]\nkind = \"sgd\"\nlr = 0.05\n[train]\nepochs = 1\nbatch_size = 4\n\
         [cbp]\nreplacement_rate = 0.01\nmaturity_threshold = 20\n\
         [continual]\nlayout = \"compact\"\nevaluate = \"none\"\nnew_task_accuracy = \"prequential\"\nprobe_examples = 100\n\
         diagnose_every = 30\n[continual.stream]\nkind = \"permuted-mnist\"\ntasks = 6\n",
    )
    .unwrap();
    let run = |out: &Path| {
        let mut cmd = bin();
        cmd.arg("-q").arg("continual").arg(&config).arg("--output-dir").arg(out);
        cmd
    };
    // Task 3 (k = 2) starts with checkpoint 2 · (1 + 1) + 0.
    let (full, split) = full_and_resumed(&dir, run, |child, split| {
        kill_after(child, &split.join("checkpoint/history-4.json"), Duration::from_millis(10), &split.join("results.json"))
    });
    let lines = |d: &Path| -> Vec<serde_json::Value> {
        std::fs::read_to_string(d.join("tasks.jsonl"))
            .unwrap()
            .lines()
            .map(|l| {
                // Everything but the timings.
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                v.as_object_mut().unwrap().remove("wall_seconds");
                if let Some(epoch) = v["last_epoch"].as_object_mut() {
                    epoch.remove("train_seconds");
                }
                v
            })
            .collect()
    };
    assert_eq!(lines(&full).len(), 7);
    assert_eq!(lines(&full), lines(&split));
    let read = |d: &Path| -> serde_json::Value { serde_json::from_slice(&std::fs::read(d.join("results.json")).unwrap()).unwrap() };
    assert_eq!(read(&full)["new_task_accuracy"], read(&split)["new_task_accuracy"]);
    assert_eq!(read(&full)["diagnostics"], read(&split)["diagnostics"]);
    // The diagnostics every 30 steps, cut to the checkpoint on resume and measured again.
    let steps = |d: &Path| std::fs::read_to_string(d.join("diagnostics.jsonl")).unwrap();
    assert_eq!(steps(&full).lines().count(), 15, "450 steps / 30");
    assert_eq!(steps(&full), steps(&split));
}

/// Runs `cmd` (a command writing to the directory it is given) to its end in `dir/full`, and in
/// `dir/split` stopped by `stop` (SIGKILL or SIGINT), refused again without `--resume`, then
/// resumed with it. Returns the two directories.
fn full_and_resumed(dir: &Path, cmd: impl Fn(&Path) -> Command, stop: impl FnOnce(&mut std::process::Child, &Path)) -> (PathBuf, PathBuf) {
    let full = dir.join("full");
    let out = cmd(&full).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let split = dir.join("split");
    let mut child = cmd(&split).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    stop(&mut child, &split);
    assert!(!split.join("results.json").exists(), "stopped before the end");
    let again = cmd(&split).output().unwrap();
    assert!(!again.status.success(), "without --resume an existing run is refused");
    assert!(String::from_utf8_lossy(&again.stderr).contains("--resume"));
    let out = cmd(&split).arg("--resume").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (full, split)
}

/// `plasticity prune`: one line for a run without a model, a sparsity outside [0, 1), an
/// unknown method; then a real prune of a trained run with one epoch of fine-tuning, and the
/// export of the result (sizes printed).
#[test]
fn prune_errors_are_one_line_and_a_trained_run_prunes_and_exports() {
    let dir = temp("prune");
    let run = dir.join("run");
    let prune = |args: &[&str]| bin().arg("-q").arg("prune").args(args).output().unwrap();
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert_one_line_error(&prune(&["--run", empty.to_str().unwrap(), "--method", "snip", "--sparsity", "0.5"]), &["config.toml"]);
    // A run directory that has its config but no model (stopped before writing it).
    let unfinished = dir.join("unfinished");
    std::fs::create_dir_all(&unfinished).unwrap();
    std::fs::copy(repo("configs/quickstart.toml"), unfinished.join("config.toml")).unwrap();
    assert_one_line_error(&prune(&["--run", unfinished.to_str().unwrap(), "--method", "snip", "--sparsity", "0.5"]), &["model.bpk"]);
    assert!(train_small(&run, &[]).status.success());
    let r = run.to_str().unwrap();
    assert_one_line_error(&prune(&["--run", r, "--method", "snip", "--sparsity", "1.0"]), &["--sparsity", "[0, 1)", "1"]);
    assert_one_line_error(&prune(&["--run", r, "--method", "snip", "--sparsity", "-0.1"]), &["--sparsity"]);
    assert_one_line_error(&prune(&["--run", r, "--method", "snap", "--sparsity", "0.5"]), &["unknown method `snap`", "magnitude"]);
    let out_dir = dir.join("pruned");
    let o = out_dir.to_str().unwrap();
    let ok = prune(&["--run", r, "--method", "magnitude", "--sparsity", "0.9", "--finetune-epochs", "1", "--out", o]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(stdout.contains("test accuracy") && stdout.contains("pruned"), "{stdout}");
    let res = results(&out_dir);
    // torch.prune's count: round(0.9 · n) of the n prunable weights go.
    let total = res["prune"]["global"]["total"].as_u64().unwrap();
    let nnz = res["prune"]["global"]["nnz"].as_u64().unwrap();
    assert_eq!(total - nnz, (0.9 * total as f64).round() as u64, "{}", res["prune"]);
    assert!(res["test"]["accuracy"].as_f64().unwrap() > 0.5);
    let exported = bin().arg("export").arg("--run").arg(&out_dir).output().unwrap();
    let text = String::from_utf8_lossy(&exported.stdout);
    assert!(text.contains("pruned.sparse") && text.contains("pruned.bpk") && text.contains("bytes"), "{text}");
    let size = |name: &str| std::fs::metadata(out_dir.join("export").join(name)).unwrap().len();
    assert!(size("pruned.sparse") * 4 < size("pruned.bpk"), "the compact file is over 4× smaller at 90 %");
}

/// A `[model] kind = "bert"` whose checkpoint directory is missing: one line naming the file once.
#[test]
fn missing_pretrained_checkpoint_is_one_line_naming_the_file() {
    let dir = temp("bert-missing");
    let out = train_small(&dir.join("run"), &["--set", "data.dataset=\"movie-reviews\"", "--set", "model={kind=\"bert\", pretrained=\"/nonexistent/minilm\"}"]);
    assert_one_line_error(&out, &["model.pretrained", "/nonexistent/minilm/config.json"]);
    assert_eq!(String::from_utf8_lossy(&out.stderr).matches("config.json").count(), 1, "the cause is not repeated");
}

fn shared_text() -> PathBuf {
    let dir = std::env::var_os("PLASTICITY_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo("../shared/data"))
        .join("text");
    assert!(dir.is_dir(), "text data missing at {} (set PLASTICITY_DATA)", dir.display());
    dir
}

/// MiniLM with LoRA r 4 on query/value (Hugging Face names) and the head in modules_to_save, on a
/// few short reviews: train, `eval` gives results.json's test accuracy, `export` writes the adapter
/// under Hugging Face's module names, `embed` writes one 384-d row per line, and an image run
/// refuses `embed` in one line.
#[test]
#[ignore = "needs ../shared/data/text (all-MiniLM-L6-v2, movie_reviews.csv.gz); run with `cargo test --workspace -- --include-ignored`"]
fn minilm_lora_run_trains_evaluates_exports_and_embeds() {
    let text = shared_text();
    let dir = temp("minilm");
    let run = dir.join("run");
    let out = bin()
        .args(["-q", "train"])
        .arg(repo("configs/minilm-sentiment.toml"))
        .arg("--data-dir")
        .arg(text.parent().unwrap())
        .args(["--set", &format!("model.pretrained=\"{}\"", text.join("all-MiniLM-L6-v2").display())])
        .args(["--set", "data.source=\"rotten_tomatoes\"", "--set", "data.train_subset=48", "--set", "data.valid_size=16"])
        .args(["--set", "data.test_size=32", "--set", "data.max_length=24", "--set", "optimizer.lr=1e-3"])
        .args(["--set", r#"peft={method="lora", r=4, target_modules='encoder\.layer\.\d+\.attention\.self\.(query|value)', modules_to_save=["classifier"]}"#])
        .arg("--output-dir")
        .arg(&run)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let res = results(&run);
    // 6 layers × 2 modules × r·(384 + 384), and the head's 384·2 + 2.
    assert_eq!(res["parameters"]["trainable"].as_u64(), Some(6 * 2 * 4 * 768 + 770));
    assert!(res["peak_memory_bytes"].as_u64().unwrap() > 50 << 20, "VmHWM holds at least the model");
    let eval = bin().args(["eval", "--run"]).arg(&run).output().unwrap();
    assert!(eval.status.success(), "{}", String::from_utf8_lossy(&eval.stderr));
    let eval: serde_json::Value = serde_json::from_slice(&eval.stdout).unwrap();
    assert_eq!(eval["accuracy"], res["test"]["accuracy"]);
    assert_eq!(eval["examples"].as_u64(), Some(32));

    let exported = bin().args(["export", "--run"]).arg(&run).output().unwrap();
    assert!(exported.status.success(), "{}", String::from_utf8_lossy(&exported.stderr));
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("export/adapter/adapter_config.json")).unwrap()).unwrap();
    let targets = config["target_modules"].as_array().unwrap();
    assert_eq!(targets.len(), 12);
    assert_eq!(targets[0], "encoder.layer.0.attention.self.query");

    let texts = dir.join("texts.txt");
    std::fs::write(&texts, "A man is eating food.\nAn unexpectedly tender, funny and beautifully acted film.\n").unwrap();
    let embedded = bin().args(["embed", "--run"]).arg(&run).arg("--texts").arg(&texts).output().unwrap();
    assert!(embedded.status.success(), "{}", String::from_utf8_lossy(&embedded.stderr));
    let json: serde_json::Value = serde_json::from_slice(&embedded.stdout).unwrap();
    let rows = json["embeddings"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r.as_array().unwrap().len() == 384));
    assert_ne!(rows[0], rows[1]);

    // An image run has nothing to embed: one line.
    let image = dir.join("image");
    let ok = train_small(&image, &["--set", "train.epochs=1"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let refused = bin().args(["embed", "--run"]).arg(&image).arg("--texts").arg(&texts).output().unwrap();
    assert_one_line_error(&refused, &["model.kind", "embed"]);
}
