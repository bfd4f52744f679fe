//! Files a run writes for loading later (models, checkpoints, adapters, method and optimizer
//! state): written atomically, with a checksum beside them, and checked when read.
//!
//! The checksum is a sidecar `<file>.sha256` in `sha256sum` format (`<hex>  <name>`), so
//! `sha256sum -c model.bpk.sha256` checks a file by hand and the file itself keeps its exact
//! format (burnpack, peft's safetensors). The sidecar is written first: a run killed between
//! the two writes leaves a checksum that no longer matches, never an unchecked new file. A file
//! without a sidecar (written before checksums existed) still loads, with a warning.

use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error(
        "{}: the file was changed or truncated after it was written (its sha256 differs from {})",
        path.display(),
        checksum_path(path).file_name().unwrap_or_default().to_string_lossy()
    )]
    Corrupt {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error("{}: not a checksum file (expected `<sha256 hex>  <name>`)", path.display())]
    BadChecksumFile { path: PathBuf },
}

impl FileError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            Self::Io { path, .. } | Self::Corrupt { path, .. } | Self::BadChecksumFile { path } => path,
        }
    }
}

/// `<path>.sha256`.
pub fn checksum_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".sha256");
    path.with_file_name(name)
}

/// Hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `bytes` to `path` through a temporary file, `fsync` and a rename, so readers never see
/// a partial file. Errors name the file (a full disk shows up here).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let mut tmp = path.as_os_str().to_os_string();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(|e| FileError::io(path, e))
}

/// Writes `bytes` to `path` atomically, with its checksum sidecar (written first).
pub fn write_verified(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let line = format!("{}  {name}\n", sha256_hex(bytes));
    write_atomic(&checksum_path(path), line.as_bytes())?;
    write_atomic(path, bytes)
}

/// The expected checksum of `path` from its sidecar; `None` when there is no sidecar.
fn expected_checksum(path: &Path) -> Result<Option<String>, FileError> {
    let sidecar = checksum_path(path);
    let text = match std::fs::read_to_string(&sidecar) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(FileError::io(&sidecar, e)),
    };
    let hex = text.split_whitespace().next().unwrap_or_default();
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(FileError::BadChecksumFile { path: sidecar });
    }
    Ok(Some(hex.to_ascii_lowercase()))
}

/// Whether `path` is checked on load: `Some(true)` when its sidecar exists.
pub fn has_checksum(path: &Path) -> bool {
    checksum_path(path).exists()
}

/// Reads `path` and checks it against its sidecar. A file without a sidecar is read with a
/// warning (written before checksums existed).
pub fn read_verified(path: &Path) -> Result<Vec<u8>, FileError> {
    let bytes = std::fs::read(path).map_err(|e| FileError::io(path, e))?;
    match expected_checksum(path)? {
        Some(expected) => {
            let found = sha256_hex(&bytes);
            if found != expected {
                return Err(FileError::Corrupt {
                    path: path.to_path_buf(),
                    expected,
                    found,
                });
            }
        }
        None => tracing::warn!(
            "{}: no checksum beside it (written before plasticity checked its files); loading it unverified",
            path.display()
        ),
    }
    Ok(bytes)
}

/// Checks `path` against its sidecar without keeping the bytes.
pub fn verify(path: &Path) -> Result<(), FileError> {
    read_verified(path).map(|_| ())
}

/// Removes `path` and its checksum sidecar (missing files are fine).
pub fn remove_verified(path: &Path) -> Result<(), FileError> {
    for p in [path.to_path_buf(), checksum_path(path)] {
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(FileError::io(&p, e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("plasticity-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("model.bpk")
    }

    #[test]
    fn a_changed_byte_or_a_truncation_is_named() {
        let path = temp("flip");
        let bytes: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
        write_verified(&path, &bytes).unwrap();
        assert_eq!(read_verified(&path).unwrap(), bytes);
        let line = std::fs::read_to_string(checksum_path(&path)).unwrap();
        assert_eq!(line, format!("{}  model.bpk\n", sha256_hex(&bytes)));

        let mut flipped = bytes.clone();
        flipped[1000] ^= 0x40;
        std::fs::write(&path, &flipped).unwrap();
        let err = read_verified(&path).unwrap_err().to_string();
        assert!(err.contains("model.bpk: the file was changed or truncated"), "{err}");

        std::fs::write(&path, &bytes[..100]).unwrap();
        assert!(matches!(read_verified(&path), Err(FileError::Corrupt { .. })));
    }

    #[test]
    fn files_without_a_checksum_still_load() {
        let path = temp("legacy");
        std::fs::write(&path, b"old file").unwrap();
        assert_eq!(read_verified(&path).unwrap(), b"old file");
        std::fs::write(checksum_path(&path), "not hex  model.bpk\n").unwrap();
        assert!(matches!(
            read_verified(&path),
            Err(FileError::BadChecksumFile { .. })
        ));
    }
}
