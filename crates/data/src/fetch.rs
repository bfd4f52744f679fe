//! Downloading and checking the canonical MNIST files (for users with internet).
//!
//! Downloads use the system `curl` (no TLS stack compiled into this crate). Each file is
//! written to `<name>.gz.part`, checked against the canonical md5 of its *uncompressed* bytes
//! (mirrors recompress, so `.gz` checksums differ), and only then renamed into place, so an
//! interrupted download never leaves a file that looks complete.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::DataError;
use crate::idx::{parse_idx_images, parse_idx_labels, read_idx_file};
use crate::mnist::find_mnist_file;

/// Mirrors tried in order; the file URL is `<mirror><name>.gz`.
pub const MNIST_MIRRORS: [&str; 2] = [
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
];

/// Canonical md5 of each MNIST file's uncompressed bytes (from Yann LeCun's distribution).
pub const MNIST_MD5: [(&str, &str); 4] = [
    ("train-images-idx3-ubyte", "6bbc9ace898e44ae57da46a324031adb"),
    ("train-labels-idx1-ubyte", "a25bea736e30d166cdddb491f175f624"),
    ("t10k-images-idx3-ubyte", "2646ac647ad5339dbf082846283269ea"),
    ("t10k-labels-idx1-ubyte", "27ae3e4e09519cfbb04c329615203637"),
];

/// Hex md5 of the (gunzipped if needed) content of `path`.
pub fn uncompressed_md5(path: &Path) -> Result<String, DataError> {
    Ok(format!("{:x}", md5::compute(read_idx_file(path)?)))
}

/// Downloads the four MNIST files into `dest/mnist/` and returns their paths.
///
/// Files already present (raw or `.gz`, in `dest/mnist/` or `dest/`) with the right md5 are
/// kept. Without network this fails on the first file with a message saying where to copy the
/// files by hand.
pub fn fetch_mnist(dest: &Path) -> Result<Vec<PathBuf>, DataError> {
    let dir = dest.join("mnist");
    std::fs::create_dir_all(&dir).map_err(|e| DataError::io(&dir, "creating directory", e))?;
    let mut paths = Vec::with_capacity(MNIST_MD5.len());
    for (name, expected) in MNIST_MD5 {
        if let Ok(existing) = find_mnist_file(dest, name) {
            if uncompressed_md5(&existing).is_ok_and(|md5| md5 == expected) {
                tracing::info!("{}: present, md5 ok", existing.display());
                paths.push(existing);
                continue;
            }
            tracing::warn!("{}: md5 mismatch or unreadable, downloading again", existing.display());
        }
        paths.push(download_one(&dir, name, expected)?);
    }
    Ok(paths)
}

/// Tries each mirror for `<name>.gz`; returns the final path once one copy has the right md5.
fn download_one(dir: &Path, name: &str, expected: &str) -> Result<PathBuf, DataError> {
    let file = format!("{name}.gz");
    let final_path = dir.join(&file);
    let part = dir.join(format!("{file}.part"));
    let urls: Vec<String> = MNIST_MIRRORS.iter().map(|m| format!("{m}{file}")).collect();
    let mut failures = Vec::new();
    for url in &urls {
        tracing::info!("downloading {url}");
        let output = Command::new("curl")
            .args(["-fsSL", "--retry", "2", "-o"])
            .arg(&part)
            .arg(url)
            .output();
        let output = match output {
            Ok(out) => out,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(DataError::CurlMissing {
                    url: url.clone(),
                    dest: dir.to_path_buf(),
                    source: e,
                });
            }
            Err(e) => return Err(DataError::io("curl", "running", e)),
        };
        if !output.status.success() {
            // curl repeats its message once per retry; the last line is enough.
            let stderr = String::from_utf8_lossy(&output.stderr);
            let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
            failures.push(format!("{url}: {}", last.trim()));
            continue;
        }
        match uncompressed_md5(&part) {
            Ok(md5) if md5 == expected => {
                std::fs::rename(&part, &final_path)
                    .map_err(|e| DataError::io(&final_path, "renaming the download into", e))?;
                return Ok(final_path);
            }
            Ok(md5) => failures.push(format!("{url}: md5 {md5}, expected {expected}")),
            Err(e) => failures.push(format!("{url}: {e}")),
        }
    }
    // Best effort: a leftover .part is harmless (never picked up) but untidy.
    let _ = std::fs::remove_file(&part);
    Err(DataError::Download {
        name: file,
        urls,
        detail: failures.join("; "),
        dest: dir.to_path_buf(),
    })
}

/// Checks the md5 of each of the four files found in `dir/mnist/` or `dir/`.
/// Returns `(canonical name, md5 matches)` per file; a missing or unreadable file is an error.
pub fn verify_mnist_dir(dir: &Path) -> Result<Vec<(String, bool)>, DataError> {
    MNIST_MD5
        .iter()
        .map(|&(name, expected)| {
            let path = find_mnist_file(dir, name)?;
            Ok((name.to_string(), uncompressed_md5(&path)? == expected))
        })
        .collect()
}

/// Human-readable report on the MNIST files in `dir` (for `plasticity data info`): per file
/// the path, what the header says and whether the md5 matches. Never fails; problems are
/// reported in the text.
pub fn describe_mnist_dir(dir: &Path) -> String {
    let mut lines = vec![format!("MNIST in {}:", dir.display())];
    for (name, expected) in MNIST_MD5 {
        let line = match describe_file(dir, name, expected) {
            Ok(line) => line,
            Err(e) => format!("  {name}: ERROR: {e}"),
        };
        lines.push(line);
    }
    lines.join("\n")
}

fn describe_file(dir: &Path, name: &str, expected: &str) -> Result<String, DataError> {
    let path = find_mnist_file(dir, name)?;
    let bytes = read_idx_file(&path)?;
    let origin = path.display().to_string();
    let what = if name.contains("images") {
        let images = parse_idx_images(&bytes, &origin)?;
        format!("{} images of {}x{}", images.count, images.rows, images.cols)
    } else {
        format!("{} labels", parse_idx_labels(&bytes, &origin)?.len())
    };
    let md5 = format!("{:x}", md5::compute(&bytes));
    let check = if md5 == expected {
        "md5 ok".to_string()
    } else {
        format!("md5 MISMATCH ({md5}, expected {expected})")
    };
    Ok(format!("  {origin}: {what}, {check}"))
}
