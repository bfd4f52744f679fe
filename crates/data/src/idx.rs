//! Reader for the IDX format used by MNIST (<http://yann.lecun.com/exdb/mnist/>).
//!
//! Layout: a big-endian `u32` magic (`0x00000803` for 3-d `u8` images, `0x00000801` for 1-d
//! `u8` labels), one big-endian `u32` per dimension, then the raw bytes in row-major order.
//! Files may be gzipped; gzip is detected by its magic bytes `1f 8b`, not by the extension.

use std::io::Read;
use std::path::Path;

use flate2::read::MultiGzDecoder;

use crate::DataError;

/// Magic of an IDX file holding `u8` data with 3 dimensions (images).
pub const IDX_IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic of an IDX file holding `u8` data with 1 dimension (labels).
pub const IDX_LABELS_MAGIC: u32 = 0x0000_0801;

/// Decoded IDX images: `pixels` is `[count, rows, cols]` row-major, one `u8` (0..=255) per pixel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxImages {
    pub count: usize,
    pub rows: usize,
    pub cols: usize,
    pub pixels: Vec<u8>,
}

impl IdxImages {
    /// Pixels per image (`rows * cols`).
    pub fn dim(&self) -> usize {
        self.rows * self.cols
    }

    /// The pixels of image `index`, `[rows, cols]` row-major; `None` when out of range.
    pub fn image(&self, index: usize) -> Option<&[u8]> {
        let dim = self.dim();
        self.pixels.get(index * dim..(index + 1) * dim)
    }
}

/// Reads a file and returns its bytes, gunzipped when it starts with the gzip magic `1f 8b`.
pub fn read_idx_file(path: &Path) -> Result<Vec<u8>, DataError> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, "reading", e))?;
    decode_maybe_gzip(bytes, &path.display().to_string())
}

/// Gunzips `bytes` if they start with `1f 8b`, otherwise returns them unchanged.
pub fn decode_maybe_gzip(bytes: Vec<u8>, origin: &str) -> Result<Vec<u8>, DataError> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    // The gzip trailer stores the uncompressed size mod 2^32: a good capacity hint that saves
    // repeated reallocation of the 47 MB training images (capped in case the trailer is junk).
    let hint = match bytes.len().checked_sub(4) {
        Some(at) => bytes[at..]
            .try_into()
            .map(|b: [u8; 4]| u32::from_le_bytes(b) as usize)
            .unwrap_or(0),
        None => 0,
    };
    let mut out = Vec::with_capacity(hint.min(256 << 20));
    // MultiGzDecoder also accepts concatenated members (valid gzip), and fails on junk after them.
    MultiGzDecoder::new(bytes.as_slice())
        .read_to_end(&mut out)
        .map_err(|source| DataError::Gzip {
            origin: origin.to_string(),
            source,
        })?;
    Ok(out)
}

/// Parses an (already decompressed) IDX images file (magic `0x00000803`).
pub fn parse_idx_images(bytes: &[u8], origin: &str) -> Result<IdxImages, DataError> {
    let dims = parse_header(bytes, origin, IDX_IMAGES_MAGIC, 3, "IDX images")?;
    let (count, rows, cols) = (dims[0], dims[1], dims[2]);
    let data = body(bytes, origin, &dims, "IDX images")?;
    Ok(IdxImages {
        count,
        rows,
        cols,
        pixels: data.to_vec(),
    })
}

/// Parses an (already decompressed) IDX labels file (magic `0x00000801`); one `u8` per example.
pub fn parse_idx_labels(bytes: &[u8], origin: &str) -> Result<Vec<u8>, DataError> {
    let dims = parse_header(bytes, origin, IDX_LABELS_MAGIC, 1, "IDX labels")?;
    Ok(body(bytes, origin, &dims, "IDX labels")?.to_vec())
}

/// Checks the magic and reads `ndims` big-endian `u32` dimensions, all of which must be > 0.
fn parse_header(
    bytes: &[u8],
    origin: &str,
    magic: u32,
    ndims: usize,
    kind: &'static str,
) -> Result<Vec<usize>, DataError> {
    let header_len = 4 + 4 * ndims;
    let word = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    if bytes.len() < 4 {
        return Err(truncated(origin, format!("{kind} header"), bytes.len(), header_len));
    }
    // Check the magic before the header length so a wrong kind of file gets the clearer message.
    let found = word(0);
    if found != magic {
        return Err(DataError::BadMagic {
            origin: origin.to_string(),
            found,
            expected: magic,
            kind,
        });
    }
    if bytes.len() < header_len {
        return Err(truncated(origin, format!("{kind} header"), bytes.len(), header_len));
    }
    let raw: Vec<u32> = (0..ndims).map(|d| word(4 + 4 * d)).collect();
    if raw.contains(&0) {
        return Err(DataError::BadDims {
            origin: origin.to_string(),
            dims: raw,
            problem: "a dimension is zero",
        });
    }
    Ok(raw.into_iter().map(|d| d as usize).collect())
}

/// Returns the data after the header, which must be exactly `prod(dims)` bytes long.
fn body<'a>(bytes: &'a [u8], origin: &str, dims: &[usize], kind: &'static str) -> Result<&'a [u8], DataError> {
    let header_len = 4 + 4 * dims.len();
    let size = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    let Some(size) = size.and_then(|s| s.checked_add(header_len)) else {
        return Err(DataError::BadDims {
            origin: origin.to_string(),
            dims: dims.iter().map(|&d| d as u32).collect(),
            problem: "the data size overflows",
        });
    };
    let shape = dims.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(" x ");
    if bytes.len() < size {
        let what = format!("{kind} file (header says {shape})");
        return Err(truncated(origin, what, bytes.len(), size));
    }
    if bytes.len() > size {
        return Err(DataError::TrailingBytes {
            origin: origin.to_string(),
            extra: bytes.len() - size,
            expected: size,
        });
    }
    Ok(&bytes[header_len..])
}

fn truncated(origin: &str, what: String, found: usize, expected: usize) -> DataError {
    DataError::Truncated {
        origin: origin.to_string(),
        what,
        found,
        expected,
    }
}
