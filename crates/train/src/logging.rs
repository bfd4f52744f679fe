//! `tracing` setup: stderr at the chosen level (`-v`, `-q`, `RUST_LOG`), plus a `run.log` in
//! the run directory once a run starts. Burn's own `log` records are bridged into tracing.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{Mutex, OnceLock};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

static RUN_LOG: OnceLock<Mutex<Option<File>>> = OnceLock::new();

/// Writes into the current run's `run.log`, or nowhere before a run starts.
#[derive(Clone, Copy)]
struct RunLogWriter;

impl Write for RunLogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(slot) = RUN_LOG.get()
            && let Ok(mut file) = slot.lock()
            && let Some(file) = file.as_mut()
        {
            file.write_all(buf)?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for RunLogWriter {
    type Writer = RunLogWriter;
    fn make_writer(&'a self) -> Self::Writer {
        *self
    }
}

/// Installs the global subscriber. `verbosity`: -1 quiet (errors), 0 warnings, 1 info, 2+ debug.
/// `RUST_LOG` overrides the stderr level. The run log always records info and above.
pub fn init_logging(verbosity: i8) {
    // At the default level, Burn's trainer stays quiet: the errors it logs come back to us in
    // its `LearningResult` and are printed once, as the command's one-line error. So does
    // cubecl's warning about a panicked device thread: a GPU that cannot be acquired comes back
    // as `DeviceError::Unavailable`.
    let level = match verbosity {
        i8::MIN..=-1 => "error,burn_train=off",
        0 => "warn,burn_train=off,cubecl_common::device=error",
        1 => "info",
        _ => "debug",
    };
    let stderr_filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_filter(stderr_filter);
    let file = tracing_subscriber::fmt::layer()
        .with_writer(RunLogWriter)
        .with_ansi(false)
        .with_filter(EnvFilter::new("info"));
    let _ = tracing_subscriber::registry().with(stderr).with(file).try_init();
}

/// Starts appending the log to `path` (the run directory's `run.log`).
pub fn attach_run_log(path: &Path) {
    let slot = RUN_LOG.get_or_init(|| Mutex::new(None));
    if let Ok(mut current) = slot.lock() {
        *current = std::fs::OpenOptions::new().create(true).append(true).open(path).ok();
    }
}

use tracing_subscriber::Layer as _;
