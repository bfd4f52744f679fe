//! The method's tensor state survives SIGKILL mid-epoch: the binary is killed inside epoch 3
//! and resumed with `--resume`; its state, its losses and its test accuracy are bit-identical
//! to those of an uninterrupted run.

#[path = "../../support/kill.rs"]
mod kill;

use kill::kill_inside_epoch_3;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const CONFIG: &str = r#"
seed = 8
[data]
valid_size = 500
train_subset = 6000
[model]
kind = "mlp"
hidden = [64]
[train]
epochs = 5
batch_size = 16
keep_checkpoints = 5
"#;

fn config(name: &str) -> (PathBuf, PathBuf) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("half-mask-kill-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let run = dir.join("run");
    let path = dir.join("config.toml");
    std::fs::write(&path, format!("output_dir = \"{}\"\n{CONFIG}", run.display())).unwrap();
    (path, run)
}

fn train(config: &Path, resume: bool) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_half-mask-train"));
    cmd.arg(config).stdout(Stdio::null()).stderr(Stdio::piped());
    if resume {
        cmd.arg("--resume");
    }
    cmd
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn tensor_state_survives_sigkill_and_resume_bit_identically() {
    let (full_config, full) = config("full");
    let out = train(&full_config, false).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let (split_config, split) = config("split");
    let mut child = train(&split_config, false).stderr(Stdio::null()).spawn().unwrap();
    kill_inside_epoch_3(&mut child, &split, Duration::from_millis(200));
    let out = train(&split_config, true).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let (a, b) = (json(&full.join("half-mask.json")), json(&split.join("half-mask.json")));
    assert_eq!(a["running_bits"], b["running_bits"], "the method's tensor state, bit for bit");
    assert_eq!(a["steps"], b["steps"]);
    assert_eq!(a["steps"], 5 * 6000 / 16);
    let (ra, rb) = (json(&full.join("results.json")), json(&split.join("results.json")));
    assert!(rb["resumed_after_epoch"].as_u64().unwrap() >= 2);
    for (ea, eb) in ra["epochs"].as_array().unwrap().iter().zip(rb["epochs"].as_array().unwrap()) {
        assert_eq!(ea["train_loss"], eb["train_loss"], "epoch {}", ea["epoch"]);
        assert_eq!(ea["valid_loss"], eb["valid_loss"], "epoch {}", ea["epoch"]);
    }
    assert_eq!(ra["test_accuracy"], rb["test_accuracy"]);
}
