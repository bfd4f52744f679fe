//! LoRA in activation space (`ActivationLora`, through the models' linear points) against Burn's
//! weight-space `LoraAdapter`: the same function and the same gradients for A and B, with no
//! gradient for the frozen base; and `[peft]` target patterns under a pretrained model's Hugging
//! Face names (a tiny random BERT, no files needed).

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use plasticity_core::{AttachContext, Forward, Hooks, MethodModules, Mode, Tokens};
use plasticity_models::bert::{BertClassifier, BertConfig, Pooling};
use plasticity_models::PlasticModel;

mod common;
use common::{max_abs_diff, small_mlp};
use plasticity_peft::{ActivationLora, LoraConfig, PeftConfig, TargetModules, adapter_params};

#[test]
fn activation_space_lora_equals_the_weight_space_function_and_gradients() {
    let device = Device::flex().autodiff();
    let base = small_mlp(&device, 5);
    let config = LoraConfig::new(TargetModules::Names(vec!["hidden.0".into(), "output".into()])).with_r(3).with_alpha(6.0);
    let mut model = config.apply(base).unwrap();
    let x = Tensor::<2>::random([7, 12], Distribution::Default, &device);
    let hooks = || Hooks::new(vec![Box::new(ActivationLora::default())]);
    let loss = |m: &plasticity_models::Mlp, hooked: bool| {
        let y = if hooked { m.forward_hooked(x.clone(), &hooks()) } else { m.forward(x.clone()) };
        (y - 0.5).powi_scalar(2).mean()
    };
    // Two Adam steps in activation space make B nonzero (at init B = 0 and both forms are W).
    let mut optim = AdamConfig::new().init();
    for _ in 0..2 {
        let grads = GradientsParams::from_grads(loss(&model, true).backward(), &model);
        assert_eq!(grads.len(), 4, "A and B of two layers, nothing of the frozen base");
        model = optim.step(1e-2, model, grads);
    }
    let adapter = model.output.weight.adapter().expect("adapter");
    assert!(adapter.b.val().abs().max().into_scalar::<f32>() > 1e-3);
    // The same function as the materialized weight x·(W + s·A·B) + b.
    assert!(max_abs_diff(model.forward_hooked(x.clone(), &hooks()), model.forward(x.clone())) <= 1e-5);
    // The same gradients for every A and B.
    let (hooked, plain) = (loss(&model, true).backward(), loss(&model, false).backward());
    let mut compared = 0;
    for p in adapter_params(&model) {
        let grad = |g: &burn::tensor::Gradients| {
            let mut found = None;
            model.visit(&mut Grab { id: p.id, grads: g, found: &mut found });
            found.expect("a gradient")
        };
        let (a, b) = (grad(&hooked), grad(&plain));
        assert!(max_abs_diff(a.clone(), b) <= 1e-5 * (1.0 + a.abs().max().into_scalar::<f32>()), "{}", p.path);
        compared += 1;
    }
    assert_eq!(compared, 4);
}

/// Finds one parameter's gradient.
struct Grab<'a> {
    id: burn::module::ParamId,
    grads: &'a burn::tensor::Gradients,
    found: &'a mut Option<Tensor<2>>,
}

impl burn::module::ModuleVisitor for Grab<'_> {
    fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
        if param.id == self.id && D == 2 {
            let g = param.val().grad(self.grads).expect("tracked");
            let dims = g.dims();
            *self.found = Some(g.reshape([dims[0], dims[1]]));
        }
    }
}

fn tiny(device: &Device) -> BertClassifier {
    let config: BertConfig = serde_json::from_str(
        r#"{"vocab_size": 50, "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 4,
            "intermediate_size": 32, "max_position_embeddings": 32, "layer_norm_eps": 1e-12}"#,
    )
    .unwrap();
    BertClassifier::new(config.init(device), 3, Pooling::Mean, device)
}

fn peft(toml: &str) -> PeftConfig {
    toml::from_str(toml).expect("a [peft] table")
}

#[test]
fn target_patterns_match_hugging_face_names_of_a_pretrained_model() {
    let device = Device::flex().autodiff();
    let cx = AttachContext {
        device: &device,
        total_steps: 10,
        run_dir: None,
    };
    let adapted = |toml: &str| -> Result<Vec<String>, String> {
        let mut method = peft(toml).build::<BertClassifier>();
        let model = method.attach(tiny(&device), &cx).map_err(|e| e.to_string())?;
        let mut modules: Vec<String> = adapter_params(&model)
            .into_iter()
            .filter_map(|p| p.adapter.filter(|a| a.field == "a").map(|a| a.base))
            .collect();
        modules.dedup();
        Ok(modules)
    };
    let hf = adapted(r#"method = "lora"
target_modules = 'encoder\.layer\.\d+\.attention\.self\.(query|value)'"#)
    .unwrap();
    let ours = adapted(r#"method = "lora"
target_modules = ["query", "value"]"#)
    .unwrap();
    assert_eq!(hf, ours);
    assert_eq!(hf.len(), 4);
    assert_eq!(hf[0], "encoder.layer.0.attention.self_attn.query.weight");
    // A full Hugging Face path in a list selects that one module; exclusions use them too.
    let one = adapted(r#"method = "lora"
target_modules = ["encoder.layer.1.attention.self.query"]"#)
    .unwrap();
    assert_eq!(one, ["encoder.layer.1.attention.self_attn.query.weight"]);
    let excluded = adapted(r#"method = "lora"
target_modules = ["query"]
exclude_modules = 'encoder\.layer\.0\.attention\.self\.query'"#)
    .unwrap();
    assert_eq!(excluded, ["encoder.layer.1.attention.self_attn.query.weight"]);
    // A pattern that matches neither name lists the Hugging Face names.
    let err = adapted(r#"method = "lora"
target_modules = 'encoder\.layer\.\d+\.attention\.self\.nothing'"#)
    .unwrap_err();
    assert!(err.contains("nothing") && err.contains("encoder.layer.0.attention.self.query"), "{err}");

    // Activation-space LoRA through the method's hooks gives the classifier's logits of the
    // materialized weights.
    let mut method = peft(r#"method = "lora"
target_modules = ["query", "value"]
modules_to_save = ["classifier"]"#)
    .build::<BertClassifier>();
    let model = method.attach(tiny(&device), &cx).unwrap();
    let tokens = Tokens {
        ids: Tensor::<2, Int>::from_data(TensorData::new(vec![1i64, 5, 7, 2, 1, 9, 0, 0], [2, 4]), &device),
        mask: Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0], [2, 4]), &device),
    };
    let hooks = method.hooks(&model, &MethodModules::default(), Forward { mode: Mode::Train, step: 0 });
    assert_eq!(hooks.len(), 1);
    let hooked = model.forward_hooked(tokens.clone(), &Hooks::new(hooks));
    assert!(max_abs_diff(hooked, model.forward(tokens)) <= 1e-5);
}
