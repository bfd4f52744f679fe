//! md5 verification against the shared files, and the download-skip path (no network used).

use super::{TempDir, shared_data_dir};
use crate::{MNIST_FILES, describe_mnist_dir, fetch_mnist, read_idx_file, verify_mnist_dir};

#[test]
#[ignore = "needs the full MNIST files (../shared/data beside the repository, or PLASTICITY_DATA); run with `cargo test --workspace -- --include-ignored`"]
fn shared_mnist_has_canonical_md5s() {
    let report = verify_mnist_dir(&shared_data_dir()).expect("shared MNIST must be present");
    let expected: Vec<(String, bool)> = MNIST_FILES.iter().map(|n| (n.to_string(), true)).collect();
    assert_eq!(report, expected);
}

#[test]
#[ignore = "needs the full MNIST files (../shared/data beside the repository, or PLASTICITY_DATA); run with `cargo test --workspace -- --include-ignored`"]
fn corrupted_copy_fails_verification() {
    let src = shared_data_dir().join("mnist");
    let dir = TempDir::new("corrupt-copy");
    for name in &MNIST_FILES[..3] {
        let file = format!("{name}.gz");
        std::fs::copy(src.join(&file), dir.path().join(&file)).expect("copy");
    }
    // The test labels, uncompressed, with one label changed.
    let mut labels = read_idx_file(&src.join("t10k-labels-idx1-ubyte.gz")).expect("read");
    labels[100] = (labels[100] + 1) % 10;
    dir.write("t10k-labels-idx1-ubyte", &labels);
    let report = verify_mnist_dir(dir.path()).expect("all files present");
    let ok: Vec<bool> = report.iter().map(|(_, ok)| *ok).collect();
    assert_eq!(ok, vec![true, true, true, false]);
    let info = describe_mnist_dir(dir.path());
    assert!(info.contains("10000 labels, md5 MISMATCH"), "{info}");
    assert!(info.contains("60000 images of 28x28, md5 ok"), "{info}");
}

#[test]
#[ignore = "needs the full MNIST files (../shared/data beside the repository, or PLASTICITY_DATA); run with `cargo test --workspace -- --include-ignored`"]
fn fetch_skips_files_already_present_with_right_md5() {
    let src = shared_data_dir().join("mnist");
    let dir = TempDir::new("fetch-present");
    std::fs::create_dir_all(dir.path().join("mnist")).expect("mkdir");
    for name in MNIST_FILES {
        let file = format!("{name}.gz");
        std::fs::copy(src.join(&file), dir.path().join("mnist").join(&file)).expect("copy");
    }
    let paths = fetch_mnist(dir.path()).expect("nothing to download");
    let expected: Vec<_> = MNIST_FILES
        .iter()
        .map(|n| dir.path().join("mnist").join(format!("{n}.gz")))
        .collect();
    assert_eq!(paths, expected);
}
