//! Every failure mode names the file and says what was found versus expected.

use super::{TempDir, gzip, idx_images, idx_labels, write_tiny_mnist};
use crate::{DataError, load_mnist_dir, parse_idx_images, parse_idx_labels, read_idx_file};

fn message(result: Result<impl std::fmt::Debug, DataError>) -> String {
    match result {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_magic_names_file_and_both_magics() {
    let msg = message(parse_idx_images(&idx_labels(&[1, 2]), "train-images-idx3-ubyte.gz"));
    assert_eq!(
        msg,
        "train-images-idx3-ubyte.gz: bad magic 0x00000801, expected 0x00000803 (IDX images)"
    );
    let msg = message(parse_idx_labels(&idx_images(1, 2, 2), "t10k-labels-idx1-ubyte"));
    assert!(
        msg.contains("t10k-labels-idx1-ubyte: bad magic 0x00000803, expected 0x00000801"),
        "{msg}"
    );
}

#[test]
fn truncated_images_file_reports_sizes() {
    // Real header (60000 x 28 x 28) with only part of the pixels.
    let mut bytes = idx_images(1, 28, 28);
    bytes[4..8].copy_from_slice(&60000u32.to_be_bytes());
    let msg = message(parse_idx_images(&bytes, "train-images-idx3-ubyte"));
    assert!(msg.starts_with("train-images-idx3-ubyte: truncated"), "{msg}");
    assert!(msg.contains("60000 x 28 x 28"), "{msg}");
    assert!(
        msg.contains(&format!("found {} bytes, expected {}", 16 + 784, 16 + 60000 * 784)),
        "{msg}"
    );
    // A header cut short is also "truncated".
    let msg = message(parse_idx_images(&bytes[..10], "x-images"));
    assert!(
        msg.contains("x-images: truncated IDX images header: found 10 bytes, expected 16"),
        "{msg}"
    );
    let msg = message(parse_idx_labels(&[0, 0], "x-labels"));
    assert!(msg.contains("x-labels: truncated"), "{msg}");
}

#[test]
fn trailing_bytes_and_zero_dims_are_errors() {
    let mut bytes = idx_labels(&[1, 2, 3]);
    bytes.extend_from_slice(&[0, 0]);
    let msg = message(parse_idx_labels(&bytes, "labels.idx"));
    assert_eq!(
        msg,
        "labels.idx: 2 bytes of trailing data after the 11 bytes the header describes"
    );
    let msg = message(parse_idx_images(&idx_images(0, 28, 28), "empty.idx"));
    assert!(
        msg.contains("empty.idx: invalid header dimensions [0, 28, 28]: a dimension is zero"),
        "{msg}"
    );
}

#[test]
fn image_label_count_mismatch_names_both_files() {
    let dir = TempDir::new("count-mismatch");
    write_tiny_mnist(&dir, "mnist/");
    dir.write("mnist/t10k-labels-idx1-ubyte", &idx_labels(&[9, 0, 1]));
    let msg = message(load_mnist_dir(dir.path()));
    assert!(msg.contains("t10k-images-idx3-ubyte.gz has 2 images but"), "{msg}");
    assert!(msg.contains("t10k-labels-idx1-ubyte has 3 labels"), "{msg}");
}

#[test]
fn label_out_of_range_names_index_and_value() {
    let dir = TempDir::new("label-range");
    write_tiny_mnist(&dir, "");
    dir.write("train-labels-idx1-ubyte.gz", &gzip(&idx_labels(&[1, 10, 3])));
    let msg = message(load_mnist_dir(dir.path()));
    assert!(
        msg.contains("train-labels-idx1-ubyte.gz: label 10 at index 1 is out of range, expected 0..10"),
        "{msg}"
    );
}

#[test]
fn truncated_gzip_names_file() {
    let dir = TempDir::new("bad-gzip");
    let gz = gzip(&idx_images(50, 28, 28));
    let path = dir.write("train-images-idx3-ubyte.gz", &gz[..gz.len() / 2]);
    let msg = message(read_idx_file(&path));
    assert!(
        msg.contains("train-images-idx3-ubyte.gz: corrupt or truncated gzip data"),
        "{msg}"
    );
    // A flipped byte in the stream is caught too (by the deflate decoder or the CRC check).
    let mut corrupt = gz.clone();
    let mid = corrupt.len() / 2;
    corrupt[mid] ^= 0xff;
    let path = dir.write("corrupt.gz", &corrupt);
    let msg = message(read_idx_file(&path));
    assert!(msg.contains("corrupt.gz: corrupt or truncated gzip data"), "{msg}");
}

#[test]
fn missing_files_list_paths_tried_and_suggest_fetch() {
    let dir = TempDir::new("missing");
    let msg = message(load_mnist_dir(dir.path()));
    assert!(
        msg.starts_with("missing MNIST file train-images-idx3-ubyte: tried "),
        "{msg}"
    );
    let tried = dir.path().join("mnist").join("train-images-idx3-ubyte.gz");
    assert!(msg.contains(&tried.display().to_string()), "{msg}");
    assert!(
        msg.contains("plasticity data fetch mnist") && msg.contains("--data-dir"),
        "{msg}"
    );
    let msg = message(read_idx_file(&dir.path().join("nope.gz")));
    assert!(msg.contains("nope.gz: reading failed"), "{msg}");
}

#[test]
fn gzip_is_detected_by_magic_not_extension() {
    let dir = TempDir::new("gzip-magic");
    // Raw data under a .gz name and gzip data under a plain name both load.
    dir.write("train-images-idx3-ubyte.gz", &idx_images(3, 2, 2));
    dir.write("train-labels-idx1-ubyte", &gzip(&idx_labels(&[1, 2, 3])));
    dir.write("t10k-images-idx3-ubyte", &idx_images(2, 2, 2));
    dir.write("t10k-labels-idx1-ubyte", &idx_labels(&[9, 0]));
    let mnist = load_mnist_dir(dir.path()).expect("loads from the flat directory");
    assert_eq!(mnist.train.labels, vec![1, 2, 3]);
    assert_eq!(mnist.train.images.pixels, (0..12).collect::<Vec<u8>>());
    assert_eq!(
        (mnist.test.images.count, mnist.test.images.rows, mnist.test.images.cols),
        (2, 2, 2)
    );
}
