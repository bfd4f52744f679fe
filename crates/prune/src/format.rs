//! The compact sparse model file (`.sparse`): every float parameter of a model by path, each
//! stored in the smallest of three encodings, chosen per tensor:
//!
//! - `dense`: `n` f32 values;
//! - `bitmask`: `⌈n/8⌉` bytes (bit `i % 8` of byte `i / 8` is set where entry `i`, row-major,
//!   is nonzero), then the `nnz` nonzero values in order;
//! - `csr` (rank 2, `[rows, cols]` as stored): `rows + 1` u32 row pointers, `nnz` column indices
//!   (u16 when `cols ≤ 65,536`, else u32), then the `nnz` values.
//!
//! Sizes: bitmask `n/8 + 4·nnz` bytes against CSR's `4·(rows + 1) + 6·nnz`: the bitmask wins
//! above a density of about 1/16, CSR below. A tie goes to the simpler encoding.
//!
//! Layout (little-endian): the magic `PLSPARSE`, a u32 version (1), a u64 header length, the
//! header (JSON: `{"tensors": [{"name", "shape", "encoding", "nnz", "offset", "bytes"}]}`, offsets
//! from the start of the payload), then the payload. [`read`] checks every length and names
//! the file and tensor on a mismatch. Files are written atomically.

use serde::{Deserialize, Serialize};
use std::path::Path;

const MAGIC: &[u8; 8] = b"PLSPARSE";
const VERSION: u32 = 1;

/// One tensor: its path, shape and values (row-major).
#[derive(Clone, Debug, PartialEq)]
pub struct NamedTensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    Dense,
    Bitmask,
    Csr,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Entry {
    name: String,
    shape: Vec<usize>,
    encoding: Encoding,
    nnz: usize,
    offset: usize,
    bytes: usize,
}

#[derive(Serialize, Deserialize)]
struct Header {
    tensors: Vec<Entry>,
}

/// The encoding [`write`] picks for a tensor of `shape` with `nnz` nonzeros, and its size.
pub fn choose(shape: &[usize], nnz: usize) -> (Encoding, usize) {
    let n: usize = shape.iter().product();
    let mut best = (Encoding::Dense, 4 * n);
    let bitmask = n.div_ceil(8) + 4 * nnz;
    if bitmask < best.1 {
        best = (Encoding::Bitmask, bitmask);
    }
    if let [rows, cols] = *shape {
        let index = if cols <= 1 << 16 { 2 } else { 4 };
        let csr = 4 * (rows + 1) + (index + 4) * nnz;
        if csr < best.1 {
            best = (Encoding::Csr, csr);
        }
    }
    best
}

fn encode(t: &NamedTensor, encoding: Encoding, out: &mut Vec<u8>) {
    let nonzero = || t.values.iter().filter(|v| **v != 0.0);
    match encoding {
        Encoding::Dense => t.values.iter().for_each(|v| out.extend(v.to_le_bytes())),
        Encoding::Bitmask => {
            let mut bits = vec![0u8; t.values.len().div_ceil(8)];
            for (i, v) in t.values.iter().enumerate() {
                if *v != 0.0 {
                    bits[i / 8] |= 1 << (i % 8);
                }
            }
            out.extend(bits);
            nonzero().for_each(|v| out.extend(v.to_le_bytes()));
        }
        Encoding::Csr => {
            let (rows, cols) = (t.shape[0], t.shape[1]);
            let mut ptr = 0u32;
            out.extend(ptr.to_le_bytes());
            for r in 0..rows {
                ptr += t.values[r * cols..(r + 1) * cols].iter().filter(|v| **v != 0.0).count() as u32;
                out.extend(ptr.to_le_bytes());
            }
            for (i, v) in t.values.iter().enumerate() {
                if *v != 0.0 {
                    let c = i % cols;
                    if cols <= 1 << 16 {
                        out.extend((c as u16).to_le_bytes());
                    } else {
                        out.extend((c as u32).to_le_bytes());
                    }
                }
            }
            nonzero().for_each(|v| out.extend(v.to_le_bytes()));
        }
    }
}

/// The file's bytes for `tensors`.
pub fn to_bytes(tensors: &[NamedTensor]) -> Vec<u8> {
    let mut payload = Vec::new();
    let mut entries = Vec::new();
    for t in tensors {
        let nnz = t.values.iter().filter(|v| **v != 0.0).count();
        let (encoding, _) = choose(&t.shape, nnz);
        let offset = payload.len();
        encode(t, encoding, &mut payload);
        entries.push(Entry {
            name: t.name.clone(),
            shape: t.shape.clone(),
            encoding,
            nnz,
            offset,
            bytes: payload.len() - offset,
        });
    }
    let header = serde_json::to_vec(&Header { tensors: entries }).expect("a header of strings and numbers serializes");
    let mut out = Vec::with_capacity(20 + header.len() + payload.len());
    out.extend(MAGIC);
    out.extend(VERSION.to_le_bytes());
    out.extend((header.len() as u64).to_le_bytes());
    out.extend(header);
    out.extend(payload);
    out
}

/// Writes `tensors` to `path` atomically (temporary file, then rename); returns its size.
pub fn write(path: &Path, tensors: &[NamedTensor]) -> Result<usize, String> {
    let bytes = to_bytes(tensors);
    plasticity_core::files::write_atomic(path, &bytes).map_err(|e| e.to_string())?;
    Ok(bytes.len())
}

fn f32s(bytes: &[u8]) -> impl Iterator<Item = f32> + '_ {
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
}

fn decode(e: &Entry, bytes: &[u8]) -> Result<Vec<f32>, String> {
    let n: usize = e.shape.iter().product();
    let expected = match e.encoding {
        Encoding::Dense => 4 * n,
        Encoding::Bitmask => n.div_ceil(8) + 4 * e.nnz,
        Encoding::Csr => match *e.shape.as_slice() {
            [rows, cols] => 4 * (rows + 1) + (if cols <= 1 << 16 { 2 } else { 4 } + 4) * e.nnz,
            _ => return Err(format!("a csr tensor must have rank 2, has shape {:?}", e.shape)),
        },
    };
    if bytes.len() != expected || e.nnz > n {
        return Err(format!("{} bytes for a {:?} tensor of shape {:?} with {} nonzeros, expected {expected}", bytes.len(), e.encoding, e.shape, e.nnz));
    }
    let mut values = vec![0.0f32; n];
    match e.encoding {
        Encoding::Dense => values.iter_mut().zip(f32s(bytes)).for_each(|(v, x)| *v = x),
        Encoding::Bitmask => {
            let (bits, rest) = bytes.split_at(n.div_ceil(8));
            let positions: Vec<usize> = (0..n).filter(|&i| bits[i / 8] >> (i % 8) & 1 == 1).collect();
            if positions.len() != e.nnz {
                return Err(format!("the bitmask sets {} entries, the header says {}", positions.len(), e.nnz));
            }
            positions.into_iter().zip(f32s(rest)).for_each(|(i, x)| values[i] = x);
        }
        Encoding::Csr => {
            let (rows, cols) = (e.shape[0], e.shape[1]);
            let (ptrs, rest) = bytes.split_at(4 * (rows + 1));
            let ptrs: Vec<usize> = ptrs.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as usize).collect();
            let wide = cols > 1 << 16;
            let (index, data) = rest.split_at(e.nnz * if wide { 4 } else { 2 });
            let cols_of: Vec<usize> = match wide {
                true => index.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as usize).collect(),
                false => index.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]) as usize).collect(),
            };
            let data: Vec<f32> = f32s(data).collect();
            if ptrs[0] != 0 || ptrs[rows] != e.nnz || ptrs.windows(2).any(|w| w[0] > w[1]) {
                return Err("row pointers are not a nondecreasing run from 0 to nnz".into());
            }
            for r in 0..rows {
                for k in ptrs[r]..ptrs[r + 1] {
                    let c = *cols_of.get(k).filter(|&&c| c < cols).ok_or_else(|| format!("column index of entry {k} is outside 0..{cols}"))?;
                    values[r * cols + c] = data[k];
                }
            }
        }
    }
    Ok(values)
}

/// Reads a `.sparse` file; errors name the file (and the tensor) and what was expected.
pub fn read(path: &Path) -> Result<Vec<NamedTensor>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    from_bytes(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses a `.sparse` file's bytes.
pub fn from_bytes(bytes: &[u8]) -> Result<Vec<NamedTensor>, String> {
    if bytes.len() < 20 || &bytes[..8] != MAGIC {
        return Err("not a plasticity sparse model (expected the magic PLSPARSE at the start)".into());
    }
    let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if version != VERSION {
        return Err(format!("format version {version}; this plasticity reads version {VERSION}"));
    }
    let len = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes")) as usize;
    let header_end = 20usize.checked_add(len).filter(|&e| e <= bytes.len()).ok_or("truncated: the header runs past the end of the file")?;
    let header: Header = serde_json::from_slice(&bytes[20..header_end]).map_err(|e| format!("header: {e}"))?;
    let payload = &bytes[header_end..];
    header
        .tensors
        .iter()
        .map(|e| {
            let end = e.offset.checked_add(e.bytes).filter(|&end| end <= payload.len()).ok_or_else(|| format!("`{}`: truncated (its data runs past the end of the file)", e.name))?;
            let values = decode(e, &payload[e.offset..end]).map_err(|m| format!("`{}`: {m}", e.name))?;
            Ok(NamedTensor {
                name: e.name.clone(),
                shape: e.shape.clone(),
                values,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(name: &str, shape: Vec<usize>, density_every: usize) -> NamedTensor {
        let n: usize = shape.iter().product();
        let values = (0..n).map(|i| if i % density_every == 0 { (i as f32 * 0.37).sin() + 2.0 } else { 0.0 }).collect();
        NamedTensor { name: name.into(), shape, values }
    }

    #[test]
    fn every_encoding_round_trips_and_the_smallest_is_chosen() {
        let tensors = vec![tensor("dense", vec![7, 5], 1), tensor("half", vec![40, 30], 3), tensor("sparse", vec![300, 100], 50), tensor("bias", vec![9], 2)];
        let bytes = to_bytes(&tensors);
        assert_eq!(from_bytes(&bytes).unwrap(), tensors);
        assert_eq!(choose(&[7, 5], 35).0, Encoding::Dense);
        assert_eq!(choose(&[40, 30], 400).0, Encoding::Bitmask);
        assert_eq!(choose(&[300, 100], 600).0, Encoding::Csr);
        // 600 nonzeros of 30,000: 4·301 + 6·600 bytes against 120,000 dense.
        assert_eq!(choose(&[300, 100], 600).1, 4 * 301 + 6 * 600);
    }

    #[test]
    fn damaged_files_are_errors_that_say_what_is_wrong() {
        let bytes = to_bytes(&[tensor("w", vec![300, 100], 50)]);
        assert!(from_bytes(&bytes[..bytes.len() - 3]).unwrap_err().contains("`w`: truncated"));
        assert!(from_bytes(b"PLSPARSX0000000000000000").unwrap_err().contains("magic"));
        let mut bad = bytes.clone();
        let header_len = u64::from_le_bytes(bad[12..20].try_into().unwrap()) as usize;
        // A column index past the end (the first index of the payload's index block).
        let first_index = 20 + header_len + 4 * 301;
        bad[first_index] = 0xff;
        bad[first_index + 1] = 0xff;
        assert!(from_bytes(&bad).unwrap_err().contains("column index"), "{}", from_bytes(&bad).unwrap_err());
    }
}

/// Files `plasticity export` writes for a pruned run.
pub const EXPORT_BURNPACK: &str = "pruned.bpk";
pub const EXPORT_SPARSE: &str = "pruned.sparse";

/// Writes `model` with its reparameterizations folded in (Burn's `materialize`: a signed
/// supermask's `v ⊙ m`) as burnpack ([`EXPORT_BURNPACK`], loadable by the run's `[model]`
/// without `[prune]`) and as the compact file ([`EXPORT_SPARSE`]).
pub fn export_pruned<M: burn::module::Module>(model: &M, out: &Path) -> Result<Vec<std::path::PathBuf>, String> {
    let folded = model.clone().materialize();
    let mut tensors = Vec::new();
    plasticity_core::walk_params(&folded, true, |info, value| {
        if let Some(v) = value {
            let data = v.into_data();
            let shape = data.shape().to_vec();
            tensors.push(NamedTensor {
                name: info.path.clone(),
                shape,
                values: data.convert::<f32>().try_to_vec::<f32>().unwrap_or_default(),
            });
        }
    });
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let sparse = out.join(EXPORT_SPARSE);
    write(&sparse, &tensors).map_err(|e| format!("{}: {e}", sparse.display()))?;
    let bpk = out.join(EXPORT_BURNPACK);
    let bytes = folded.into_record().into_bytes().map_err(|e| format!("{}: {e}", bpk.display()))?;
    plasticity_core::files::write_verified(&bpk, &bytes).map_err(|e| e.to_string())?;
    Ok(vec![bpk, sparse])
}
