//! `half-mask-train CONFIG [--resume]`: trains the config's MLP with `HalfMask` on
//! `hidden.0.weight`, through plasticity's run function. The kill test SIGKILLs it mid-epoch
//! and resumes it.

use plasticity_example_method::HalfMask;
use plasticity_models::ModelConfig;
use plasticity_train::{Extensions, RunOptions, load_config, train_with};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let resume = args.iter().any(|a| a == "--resume");
    let Some(path) = args.iter().find(|a| !a.starts_with("--")) else {
        eprintln!("usage: half-mask-train CONFIG [--resume]");
        std::process::exit(2);
    };
    let run = || -> Result<(), Box<dyn std::error::Error>> {
        let config = load_config(path.as_ref(), &[])?;
        let ModelConfig::Mlp(mlp) = config.model.clone() else {
            return Err("the config's [model] must be an mlp".into());
        };
        let opts = RunOptions {
            resume,
            quiet: true,
            ..Default::default()
        };
        let method = HalfMask::new("hidden.0.weight", 1e-4);
        train_with(&config, &opts, |d| mlp.init(d), Extensions::methods(vec![Box::new(method)]))?;
        Ok(())
    };
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
