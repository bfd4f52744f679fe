//! LoRA dropout through a model's linear points, against peft's formula
//! `y = x·W + b + dropout(x)·A·B·s` computed by hand with the same masks. One test in its own
//! binary: the masks come from flex's process-wide RNG, which parallel tests would share.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Distribution, Tensor};
use plasticity_core::Hooks;
use plasticity_models::PlasticModel;

mod common;
use common::{max_abs_diff, small_mlp};
use plasticity_peft::{LoraConfig, TargetModules};

/// A model with no linear points: its layers never see the hook's `linear`.
#[derive(Module, Debug)]
struct Opaque {
    layer: Linear,
}

impl PlasticModel for Opaque {
    type Input = Tensor<2>;
    fn forward_hooked(&self, x: Tensor<2>, _hooks: &Hooks) -> Tensor<2> {
        self.layer.forward(x)
    }
}

#[test]
fn lora_dropout_matches_peft_and_needs_linear_points() {
    let device = Device::flex().autodiff();
    let base = small_mlp(&device, 3);
    let targets = TargetModules::Names(vec!["hidden.0".into(), "output".into()]);
    let config = LoraConfig {
        dropout: 0.4,
        ..LoraConfig::new(targets.clone()).with_r(3).with_alpha(6.0)
    };
    let err = config.apply(base.clone()).unwrap_err().to_string();
    assert!(err.contains("dropout") && err.contains("apply_plastic"), "{err}");
    let (mut model, dropout) = config.apply_plastic(base.clone()).unwrap();
    let dropout = dropout.expect("dropout > 0 gives a hook");
    assert_eq!((dropout.p, dropout.scale), (0.4, 2.0));

    // Two Adam steps through the hook: B becomes nonzero; gradients reach A and B only.
    let x = Tensor::<2>::random([5, 12], Distribution::Default, &device);
    let mut optim = AdamConfig::new().init();
    for _ in 0..2 {
        let loss = (model.forward_hooked(x.clone(), &Hooks::new(vec![Box::new(dropout.hook())])) - 1.0)
            .powi_scalar(2)
            .mean();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        assert_eq!(grads.len(), 4, "A and B of two layers");
        model = optim.step(1e-2, model, grads);
    }

    // The hooked forward equals peft's formula with the same two masks, drawn in the same order.
    device.seed(11);
    let hooked = model.forward_hooked(x.clone(), &Hooks::new(vec![Box::new(dropout.hook())]));
    device.seed(11);
    let keep = 0.6;
    let branch = |layer: &Linear, input: Tensor<2>| {
        let adapter = layer.weight.adapter().expect("a LoRA adapter");
        let mask = input.random_like(Distribution::Bernoulli(keep));
        let dropped = input.clone() * mask.div_scalar(keep);
        let plain = input.matmul(layer.weight.base()) + layer.bias.as_ref().unwrap().val().unsqueeze_dim(0);
        plain
            + dropped
                .matmul(adapter.a.val())
                .matmul(adapter.b.val())
                .mul_scalar(adapter.scale)
    };
    let hidden = branch(&model.hidden[0], x.clone()).clamp_min(0.0);
    let expected = branch(&model.output, hidden);
    assert!(max_abs_diff(hooked.clone(), expected) <= 1e-5);
    // Without the hook (evaluation) it is plain LoRA, which the masks change.
    assert!(max_abs_diff(hooked, model.forward(x.clone())) > 1e-4);

    // A model whose adapted layer is not a linear point is refused, naming the layer.
    let opaque = Opaque {
        layer: LinearConfig::new(12, 4).init(&device),
    };
    let config = LoraConfig {
        dropout: 0.1,
        ..LoraConfig::new(TargetModules::Names(vec!["layer".into()]))
    };
    let err = config.apply_plastic(opaque).unwrap_err().to_string();
    assert!(err.contains("`layer`") && err.contains("linear points"), "{err}");
    let out_of_range = LoraConfig {
        dropout: 1.0,
        ..LoraConfig::new(targets)
    };
    assert!(
        out_of_range
            .apply_plastic(base)
            .unwrap_err()
            .to_string()
            .contains("[0, 1)")
    );
}
