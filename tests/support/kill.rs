//! SIGKILL (and SIGINT, Ctrl-C) inside an epoch, for the resume tests of the CLI and of the out-of-tree method crate.

use std::path::Path;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// Waits until the run in `run` has written the checkpoint of epoch 2 (its last file), lets it
/// go on for `into_epoch_3`, then kills `child` with SIGKILL and checks that the run had not
/// finished.
pub fn kill_inside_epoch_3(child: &mut Child, run: &Path, into_epoch_3: Duration) {
    kill_after(child, &run.join("checkpoint/history-2.json"), into_epoch_3, &run.join("results.json"));
}

/// Waits until `marker` exists, lets the process go on for `wait`, then kills `child` with
/// SIGKILL and checks that `finished` (the run's last file) was not written.
pub fn kill_after(child: &mut Child, marker: &Path, wait: Duration, finished: &Path) {
    wait_for(child, marker, wait);
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    assert!(!finished.exists(), "killed before the end");
}

/// Waits until `marker` exists, lets the process go on for `wait`, then sends it SIGINT (what
/// Ctrl-C sends) and waits for it to stop by itself; returns how it exited.
#[allow(dead_code)] // the method crate's kill test does not interrupt
pub fn interrupt_after(child: &mut Child, marker: &Path, wait: Duration) -> ExitStatus {
    wait_for(child, marker, wait);
    let sent = Command::new("kill").arg("-INT").arg(child.id().to_string()).status().unwrap();
    assert!(sent.success(), "kill -INT failed");
    child.wait().unwrap()
}

fn wait_for(child: &mut Child, marker: &Path, wait: Duration) {
    let start = Instant::now();
    while !marker.exists() {
        assert!(start.elapsed() < Duration::from_secs(300), "no checkpoint after 300 s");
        assert!(child.try_wait().unwrap().is_none(), "training ended before it was stopped");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(wait);
}
