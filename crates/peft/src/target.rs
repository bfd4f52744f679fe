//! peft-style target selection over a Burn module's float parameters (peft.md §5.1,
//! `peft:src/peft/tuners/tuners_utils.py@v0.17.1` `check_target_module_exists`).
//!
//! A *module path* is a weight's parameter path minus its trailing `.weight`
//! (`hidden.0.weight` -> `hidden.0`), the name peft would print for the layer. Only modules with a
//! float parameter named `weight` are candidates. Parameters inside an existing
//! reparameterization (`x.weight.<NAME>.<field>`) are never candidates.

use crate::PeftError;
use crate::adapter::base_params;
use burn::module::{Module, ParamGroup, ParamId};
use serde::{Deserialize, Serialize};

/// `target_modules` / `exclude_modules` as peft accepts them.
///
/// * a string is a regex that must match the whole module path (`re.fullmatch`), e.g. `hidden\.\d+`;
/// * a list holds names: a module matches when its path equals an entry or ends with `.entry`;
/// * the string `"all-linear"` ([`ALL_LINEAR`]) selects every module with a 2-D weight except the
///   last one in visiting order (the output head), as peft's shortcut does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TargetModules {
    Regex(String),
    Names(Vec<String>),
}

/// peft's special `target_modules` string: every Linear layer except the output layer.
pub const ALL_LINEAR: &str = "all-linear";

impl TargetModules {
    /// Whether this is peft's `"all-linear"`: every module with a 2-D weight except the last one
    /// in the model's visiting order, taken to be the output head (peft skips `lm_head` or the
    /// classifier head the same way).
    pub fn is_all_linear(&self) -> bool {
        matches!(self, Self::Regex(p) if p == ALL_LINEAR)
    }

    /// The patterns that must each select at least one module (the regex, or every name).
    pub fn patterns(&self) -> Vec<String> {
        match self {
            Self::Regex(pattern) => vec![pattern.clone()],
            Self::Names(names) => names.clone(),
        }
    }

    /// The first pattern (the regex, or one of the names) that matches none of `modules`.
    pub fn first_unmatched<'a>(
        &self,
        method: &'static str,
        modules: impl Iterator<Item = &'a str> + Clone,
    ) -> Result<Option<String>, PeftError> {
        for pattern in self.patterns() {
            let single = Self::from_pattern_of(self, &pattern).compile(method)?;
            if !modules.clone().any(|m| single.matches(m)) {
                return Ok(Some(pattern));
            }
        }
        Ok(None)
    }

    /// One pattern of `kind` as its own [`TargetModules`] (a regex stays a regex, a name becomes
    /// a one-name list).
    pub fn from_pattern_of(kind: &TargetModules, pattern: &str) -> TargetModules {
        match kind {
            Self::Regex(_) => Self::Regex(pattern.to_string()),
            Self::Names(_) => Self::Names(vec![pattern.to_string()]),
        }
    }

    /// Compile the patterns (a regex error names the pattern).
    pub fn compile(&self, method: &'static str) -> Result<Matcher, PeftError> {
        match self {
            Self::Regex(pattern) => ParamGroup::from_regex(format!("^(?:{pattern})$"))
                .map(Matcher::Regex)
                .map_err(|e| PeftError::InvalidPattern {
                    method,
                    pattern: pattern.clone(),
                    reason: format!("{e:?}"),
                }),
            Self::Names(names) => Ok(Matcher::Names(names.clone())),
        }
    }
}

/// Compiled [`TargetModules`].
pub enum Matcher {
    /// Burn's own regex matcher, anchored; it compares paths only, so any id will do.
    Regex(ParamGroup),
    Names(Vec<String>),
}

impl Matcher {
    /// Whether a module path is selected.
    pub fn matches(&self, module: &str) -> bool {
        match self {
            Self::Regex(group) => group.matches(&ParamId::new(), Some(module)),
            Self::Names(names) => names.iter().any(|name| name_matches(name, module)),
        }
    }
}

fn name_matches(name: &str, module: &str) -> bool {
    module == name || module.ends_with(&format!(".{name}"))
}

/// The result of [`select_targets`].
#[derive(Clone, Debug)]
pub struct Selection {
    /// Selected module paths, in model order.
    pub modules: Vec<String>,
    /// Their weights' stored shapes (Burn layout `[d_in, d_out]` for a Linear).
    pub shapes: Vec<Vec<usize>>,
    /// Exact paths `<module>.weight` of the selected weights.
    pub group: ParamGroup,
}

impl Selection {
    /// The parameter path of a module's weight (`weight` for a root-level parameter).
    pub fn weight_path(module: &str) -> String {
        if module.is_empty() {
            "weight".to_string()
        } else {
            format!("{module}.weight")
        }
    }
}

/// `patterns` as the exact module paths they select when every module also has an external name
/// (a pretrained model's name in its checkpoint: Hugging Face's `encoder.layer.0.attention.self.query`
/// for our `encoder.layers.0.self_attn.query`): a module is selected when its path or its external
/// name matches (peft semantics for each). `modules` holds `(path, external name)` pairs.
/// `all-linear` is returned as it is; with `require_match` (targets, not exclusions) a pattern that
/// matches neither name is an error listing the external names.
pub fn resolve_external(
    patterns: &TargetModules,
    modules: &[(String, String)],
    method: &'static str,
    require_match: bool,
) -> Result<TargetModules, PeftError> {
    if patterns.is_all_linear() {
        return Ok(patterns.clone());
    }
    let names = modules.iter().flat_map(|(ours, external)| [ours.as_str(), external.as_str()]);
    if require_match && let Some(pattern) = patterns.first_unmatched(method, names)? {
        let available = modules.iter().map(|(_, e)| e.as_str()).collect::<Vec<_>>().join(", ");
        return Err(PeftError::NoMatch { method, pattern, available });
    }
    let matcher = patterns.compile(method)?;
    let selected = modules
        .iter()
        .filter(|(ours, external)| matcher.matches(ours) || matcher.matches(external))
        .map(|(ours, _)| ours.clone());
    Ok(TargetModules::Names(selected.collect()))
}

/// Select the modules a method adapts and check, before anything is attached, that
/// * every target pattern (the regex, or each listed name) matches at least one module;
/// * no selected weight already has a reparameterization (other parameters may);
/// * if `two_d_only`, every selected weight is rank 2.
///
/// `exclude_modules` is checked first and may match nothing.
pub fn select_targets<M: Module>(
    model: &M,
    method: &'static str,
    target_modules: &TargetModules,
    exclude_modules: Option<&TargetModules>,
    two_d_only: bool,
) -> Result<Selection, PeftError> {
    let bases = base_params(model);
    let candidates: Vec<(String, Vec<usize>)> = bases
        .iter()
        .filter_map(|p| {
            let module = if p.path == "weight" {
                Some("")
            } else {
                p.path.strip_suffix(".weight")
            };
            module.map(|m| (m.to_string(), p.shape.clone()))
        })
        .collect();
    let all_linear = target_modules.is_all_linear();
    let include = match all_linear {
        // Every 2-D weight but the last one in visiting order (the output head).
        true => {
            let linear: Vec<String> = candidates
                .iter()
                .filter(|(_, shape)| shape.len() == 2)
                .map(|(m, _)| m.clone())
                .collect();
            Matcher::Names(linear[..linear.len().saturating_sub(1)].to_vec())
        }
        false => target_modules.compile(method)?,
    };
    let exclude = exclude_modules.map(|e| e.compile(method)).transpose()?;
    let available = || {
        candidates
            .iter()
            .map(|(m, _)| m.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };

    let unmatched = match all_linear {
        true => None,
        false => target_modules.first_unmatched(method, candidates.iter().map(|(m, _)| m.as_str()))?,
    };
    if let Some(pattern) = unmatched {
        return Err(PeftError::NoMatch {
            method,
            pattern,
            available: available(),
        });
    }

    let mut selection = Selection {
        modules: Vec::new(),
        shapes: Vec::new(),
        group: ParamGroup::from_paths(Vec::<String>::new()),
    };
    for (module, shape) in &candidates {
        let excluded = exclude.as_ref().is_some_and(|e| e.matches(module));
        if excluded || !include.matches(module) {
            continue;
        }
        if two_d_only && shape.len() != 2 {
            return Err(PeftError::NotLinear {
                method,
                module: module.clone(),
                shape: shape.clone(),
                rank: shape.len(),
            });
        }
        selection.modules.push(module.clone());
        selection.shapes.push(shape.clone());
    }
    if selection.modules.is_empty() {
        let pattern = format!("{target_modules:?} minus exclude_modules {exclude_modules:?}");
        return Err(PeftError::NoMatch {
            method,
            pattern,
            available: available(),
        });
    }
    // Burn keeps one reparameterization per parameter and silently drops a second one
    // (burn-0.22.md §11.1): a selected weight that already has one is refused. Other
    // parameters may carry another method's reparameterization.
    let selected: Vec<String> = selection.modules.iter().map(|m| Selection::weight_path(m)).collect();
    if let Some(entry) = bases.iter().find(|p| p.reparameterization.is_some() && selected.contains(&p.path)) {
        return Err(PeftError::AlreadyReparameterized {
            method,
            param: entry.path.clone(),
            existing: entry.reparameterization.clone().unwrap_or_default(),
        });
    }
    selection.group = ParamGroup::from_paths(selected);
    Ok(selection)
}
