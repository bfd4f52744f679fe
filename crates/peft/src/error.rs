//! The crate's one error type. Every check runs before a reparameterization is attached,
//! because Burn's `Reparameterizer::reparameterize` cannot return an error.

/// What went wrong while selecting targets, validating shapes or loading adapter values.
#[derive(Debug, thiserror::Error)]
pub enum PeftError {
    /// A `target_modules` pattern or name selected no module.
    #[error("{method}: target pattern `{pattern}` matches no module; available modules: [{available}]")]
    NoMatch {
        method: &'static str,
        pattern: String,
        available: String,
    },

    /// A regex in `target_modules` / `exclude_modules` does not compile.
    #[error("{method}: invalid regex `{pattern}`: {reason}")]
    InvalidPattern {
        method: &'static str,
        pattern: String,
        reason: String,
    },

    /// A 2-D-only method selected a weight of another rank (a convolution kernel, say).
    #[error(
        "{method}: module `{module}` has a weight of shape {shape:?} (rank {rank}); this method adapts only \
         2-D Linear weights [d_in, d_out]. Exclude it with exclude_modules"
    )]
    NotLinear {
        method: &'static str,
        module: String,
        shape: Vec<usize>,
        rank: usize,
    },

    /// A parameter already carries a reparameterization. Burn silently keeps the first one when a
    /// second is stacked, and a freeze-all reparameterizer would also freeze the first adapter.
    #[error(
        "{method}: parameter `{param}` already has the reparameterization `{existing}`; Burn keeps only one per \
         parameter. Merge it first with `materialize()`"
    )]
    AlreadyReparameterized {
        method: &'static str,
        param: String,
        existing: String,
    },

    /// A weight's shape does not fit the method's block structure.
    #[error("{method}: module `{module}` weight [d_in, d_out] = {shape:?}: {reason}")]
    Shape {
        method: &'static str,
        module: String,
        shape: Vec<usize>,
        reason: String,
    },

    /// A configuration value is out of range or unsupported.
    #[error("{method}: invalid config `{key}` = {value}: {reason}")]
    Config {
        method: &'static str,
        key: &'static str,
        value: String,
        reason: String,
    },

    /// A block `I + B_c` of a Bat adapter is singular, so the merge cannot be undone.
    #[error("MiSS bat unmerge: block {block} of (I + B) is singular (pivot {pivot:e})")]
    Singular { block: usize, pivot: f64 },

    /// Reading a tensor back to the host failed.
    #[error("could not read tensor data: {0}")]
    Data(String),
}

impl PeftError {
    /// Errs on the first of `values` (config key, value) that is 0: ranks, block sizes and
    /// intervals must be at least 1.
    pub(crate) fn check_positive(method: &'static str, values: &[(&'static str, usize)]) -> Result<(), PeftError> {
        match values.iter().find(|(_, value)| *value == 0) {
            Some(&(key, _)) => Err(PeftError::Config {
                method,
                key,
                value: "0".into(),
                reason: "must be at least 1".into(),
            }),
            None => Ok(()),
        }
    }
}
