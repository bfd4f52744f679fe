//! A model defined outside plasticity trains through the same runner as the bundled ones.
//!
//! `cargo run --release --example custom_model`
//!
//! The model implements one trait, `PlasticModel`: `forward_hooked` computes the logits and
//! routes each hidden pre-activation and each Linear layer through the hooks (so activation-space
//! methods such as TauGate can gate it, and LoRA dropout can reach the layers), and
//! `insertion_points` / `linear_points` list them.

use plasticity::burn::module::Module;
use plasticity::burn::nn::{Linear, LinearConfig};
use plasticity::burn::tensor::{Device, Tensor};
use plasticity::core::{Activation, Hooks, InsertionPoint, PlasticModel};
use plasticity::train::{RunOptions, parse_config, train_with};

/// `[batch, 784] -> 128 (GELU) -> 10`, a residual-free two-layer classifier.
#[derive(Module, Debug)]
struct TwoLayer {
    hidden: Linear,
    output: Linear,
}

impl TwoLayer {
    fn new(device: &Device) -> Self {
        Self {
            hidden: LinearConfig::new(784, 128).init(device),
            output: LinearConfig::new(128, 10).init(device),
        }
    }
}

impl PlasticModel for TwoLayer {
    type Input = Tensor<2>;

    fn forward_hooked(&self, input: Tensor<2>, hooks: &Hooks) -> Tensor<2> {
        let z = hooks.linear(0, &self.hidden, input);
        let h = hooks.activate(0, z, Activation::Gelu);
        hooks.linear(1, &self.output, h)
    }

    fn linear_points(&self) -> Vec<String> {
        vec!["hidden".into(), "output".into()]
    }

    fn insertion_points(&self) -> Vec<InsertionPoint> {
        vec![InsertionPoint {
            name: "hidden".into(),
            width: 128,
        }]
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Everything but the model comes from a config, as for `plasticity train`.
    let config = parse_config(
        r#"
        name = "custom-model"
        output_dir = "runs/custom-model"
        [data]
        valid_size = 1500
        [train]
        epochs = 2
        "#,
        "examples/custom_model.rs",
        &[],
    )?;
    let summary = train_with(&config, &RunOptions::default(), TwoLayer::new, Default::default())?;
    println!(
        "test accuracy {:?}; run directory {}",
        summary.results.test_accuracy,
        summary.dir.display()
    );
    Ok(())
}
