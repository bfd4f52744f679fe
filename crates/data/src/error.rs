//! The crate's single error type.
//!
//! Every variant that concerns a file names it (`origin` is the path or file name given by the
//! caller) and says what was found versus what was expected, so a message alone is enough to
//! fix the problem.

use std::path::PathBuf;

/// Errors from reading, checking, transforming and fetching MNIST-format data.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file could not be opened, read, written or renamed.
    #[error("{}: {action} failed: {source}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },

    /// The file starts with the gzip magic (1f 8b) but the stream is truncated or corrupt.
    #[error("{origin}: corrupt or truncated gzip data: {source}")]
    Gzip {
        origin: String,
        #[source]
        source: std::io::Error,
    },

    /// The IDX magic number does not match the expected kind of file.
    #[error("{origin}: bad magic 0x{found:08x}, expected 0x{expected:08x} ({kind})")]
    BadMagic {
        origin: String,
        found: u32,
        expected: u32,
        kind: &'static str,
    },

    /// Fewer bytes than the IDX header (or the header itself) requires.
    #[error("{origin}: truncated {what}: found {found} bytes, expected {expected}")]
    Truncated {
        origin: String,
        what: String,
        found: usize,
        expected: usize,
    },

    /// More bytes than the IDX header describes (usually a concatenated or wrong file).
    #[error("{origin}: {extra} bytes of trailing data after the {expected} bytes the header describes")]
    TrailingBytes {
        origin: String,
        extra: usize,
        expected: usize,
    },

    /// A header dimension is zero, or the dimensions overflow `usize`.
    #[error("{origin}: invalid header dimensions {dims:?}: {problem}")]
    BadDims {
        origin: String,
        dims: Vec<u32>,
        problem: &'static str,
    },

    /// None of the candidate paths of a required file exists.
    #[error(
        "missing MNIST file {name}: tried {}; run `plasticity data fetch mnist` or pass --data-dir",
        tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    MissingFile { name: String, tried: Vec<PathBuf> },

    /// The images and labels files of one split disagree on the number of examples.
    #[error("{images_origin} has {images} images but {labels_origin} has {labels} labels")]
    CountMismatch {
        images_origin: String,
        images: usize,
        labels_origin: String,
        labels: usize,
    },

    /// A label is not a valid class index.
    #[error("{origin}: label {value} at index {index} is out of range, expected 0..{num_classes}")]
    LabelOutOfRange {
        origin: String,
        index: usize,
        value: u8,
        num_classes: usize,
    },

    /// An argument to a transform or loader is out of its valid range.
    #[error("{operation}: {problem}")]
    InvalidArgument { operation: &'static str, problem: String },

    /// The system `curl` binary could not be started.
    #[error("cannot download {url}: `curl` was not found ({source}); install curl, or copy the four MNIST files into {} instead", dest.display())]
    CurlMissing {
        url: String,
        dest: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Every mirror failed for one file.
    #[error("could not download {name} from {} (no network?): {detail}; copy the four MNIST files into {} instead", urls.join(" or "), dest.display())]
    Download {
        name: String,
        urls: Vec<String>,
        detail: String,
        dest: PathBuf,
    },

    /// A row of a text dataset that cannot be used (line numbers count from 1, the header).
    #[error("{origin}: line {line}: {problem}")]
    BadRow { origin: String, line: u64, problem: String },

    /// A tokenizer file that cannot be loaded or used.
    #[error("{}: {message}", path.display())]
    Tokenizer { path: PathBuf, message: String },

    /// A file's uncompressed content does not have the canonical md5.
    #[error("{}: md5 of the uncompressed data is {found}, expected {expected}", path.display())]
    Checksum {
        path: PathBuf,
        found: String,
        expected: String,
    },
}

impl DataError {
    /// Shorthand for [`DataError::InvalidArgument`].
    pub(crate) fn invalid(operation: &'static str, problem: impl Into<String>) -> Self {
        DataError::InvalidArgument {
            operation,
            problem: problem.into(),
        }
    }

    /// Shorthand for [`DataError::Io`].
    pub(crate) fn io(path: impl Into<PathBuf>, action: &'static str, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            action,
            source,
        }
    }
}
