//! Helpers shared by the integration tests.
#![allow(dead_code)]

use plasticity::burn::module::{Module, ModuleVisitor, Param};
use plasticity::burn::tensor::Tensor;
use plasticity::train::{RunConfig, parse_config};
use std::path::PathBuf;

/// The real datasets beside the repository (CI has ../shared next to the clone).
pub fn shared_data() -> PathBuf {
    let dir = std::env::var_os("PLASTICITY_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    assert!(
        dir.join("mnist").is_dir(),
        "the real MNIST files are missing from {} (set PLASTICITY_DATA)",
        dir.display()
    );
    dir
}

/// A fresh temporary run directory under the target directory.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A config from TOML text with `output_dir` set to `dir`.
pub fn config(text: &str, dir: &std::path::Path) -> RunConfig {
    let set = format!("output_dir=\"{}\"", dir.display());
    parse_config(text, "test", &[set]).unwrap()
}

/// Every float parameter's values, in visiting order.
pub fn param_values<M: Module>(module: &M) -> Vec<Vec<f32>> {
    struct Values(Vec<Vec<f32>>);
    impl ModuleVisitor for Values {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0
                .push(param.val().into_data().convert::<f32>().try_to_vec::<f32>().unwrap());
        }
    }
    let mut v = Values(Vec::new());
    module.visit(&mut v);
    v.0
}
