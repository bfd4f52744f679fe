//! The crate's error type; every message names the table, the key or the parameter.

/// What went wrong while selecting targets or attaching a reparameterization.
#[derive(Debug, thiserror::Error)]
pub enum ReparamError {
    /// Target selection (peft's rules) failed.
    #[error("reparam ({method}): {source}")]
    Target {
        method: &'static str,
        #[source]
        source: plasticity_peft::PeftError,
    },
    /// `[reparam]` and another method's table target the same parameter.
    #[error(
        "`{param}` is targeted by [reparam] ({method}) and already carries `{existing}` (from [peft]); Burn keeps \
         one reparameterization per parameter, so the two are not stacked: leave `{module}` out of one table's \
         target_modules (or add it to exclude_modules)"
    )]
    SameParameter {
        method: &'static str,
        param: String,
        module: String,
        existing: String,
    },
    /// A configuration value is out of range or does not fit the method.
    #[error("reparam.{key} = {value}: {reason}")]
    Config {
        key: &'static str,
        value: String,
        reason: String,
    },
    /// Data-dependent initialization could not run.
    #[error("reparam (weight-norm) data_init: {0}")]
    Init(String),
}
