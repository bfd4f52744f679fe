//! Crate tests that use real MNIST (shared data and bundled subset), temp files and Burn tensors.

mod errors;
mod fetch;
mod loader;
mod real_mnist;
mod set;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::{DATA_DIR_ENV, Mnist, bundled_mnist, load_mnist_dir};

/// The shared data directory: `$PLASTICITY_DATA`, else `../shared/data` beside the repo root.
pub fn shared_data_dir() -> PathBuf {
    std::env::var_os(DATA_DIR_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")))
}

/// Full MNIST from the shared directory, loaded once. Missing data is a test failure, not a skip.
pub fn full_mnist() -> &'static Mnist {
    static FULL: OnceLock<Mnist> = OnceLock::new();
    FULL.get_or_init(|| {
        let dir = shared_data_dir();
        load_mnist_dir(&dir).unwrap_or_else(|e| {
            panic!(
                "the shared MNIST data is required by these tests (set {DATA_DIR_ENV} or put \
                 shared/data beside the repository): {e}"
            )
        })
    })
}

/// The bundled subset, decoded once.
pub fn bundled() -> &'static Mnist {
    static BUNDLED: OnceLock<Mnist> = OnceLock::new();
    BUNDLED.get_or_init(|| bundled_mnist().expect("bundled MNIST must decode"))
}

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        // Unique per process and call, so parallel tests never share a directory.
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("plasticity-data-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent");
        }
        std::fs::write(&path, bytes).expect("write temp file");
        path
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An IDX images file with `count` images of `rows x cols`, pixel value = index mod 256.
pub fn idx_images(count: u32, rows: u32, cols: u32) -> Vec<u8> {
    let mut out = Vec::new();
    for word in [0x803, count, rows, cols] {
        out.extend_from_slice(&word.to_be_bytes());
    }
    out.extend((0..count * rows * cols).map(|i| (i % 256) as u8));
    out
}

/// An IDX labels file holding `labels`.
pub fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0x801u32.to_be_bytes());
    out.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    out.extend_from_slice(labels);
    out
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

/// Writes a small, valid four-file MNIST-format set into `dir`: train 3 images, test 2.
pub fn write_tiny_mnist(dir: &TempDir, sub: &str) {
    dir.write(&format!("{sub}train-images-idx3-ubyte"), &idx_images(3, 2, 2));
    dir.write(
        &format!("{sub}train-labels-idx1-ubyte.gz"),
        &gzip(&idx_labels(&[1, 2, 3])),
    );
    dir.write(&format!("{sub}t10k-images-idx3-ubyte.gz"), &gzip(&idx_images(2, 2, 2)));
    dir.write(&format!("{sub}t10k-labels-idx1-ubyte"), &idx_labels(&[9, 0]));
}
