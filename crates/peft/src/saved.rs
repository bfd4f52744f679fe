//! peft's `modules_to_save`: whole modules (typically a new classifier head) that train in full
//! next to an adapter and are saved with it (peft.md §5.1–5.2).
//!
//! A name selects a module as `target_modules` lists do: the module path equals the name or ends
//! with `.name` (`output` selects `output`; `0` selects `hidden.0`). A module here is any prefix of
//! a parameter path, so `hidden` selects every parameter under `hidden`. Every name must select
//! something, and a saved module is never an adapter target ([`exclusion`] is added to the
//! method's `exclude_modules`, as peft skips such modules when it injects adapters).
//!
//! Ours differs from peft in one way, by design: peft wraps the module and trains a *copy* beside
//! the frozen original; here the module's own parameters are unfrozen in place. The original
//! values stay in the base checkpoint the adapter was trained from, and the adapter file holds
//! the trained ones, so base + adapter reproduce the adapted model as in peft. Parameter counts
//! therefore have no duplicated copy (peft's "all params" counts it twice).

use crate::PeftError;
use crate::adapter::base_params;
use crate::target::TargetModules;
use burn::module::{Module, ParamGroup, ParamId};

const METHOD: &str = "modules_to_save";

/// One parameter of a saved module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedParam {
    /// The selected module's path (`output`).
    pub module: String,
    /// The full parameter path (`output.weight`).
    pub param: String,
    pub id: ParamId,
}

impl SavedParam {
    /// The parameter's name inside its module (`weight`, or `0.weight` for a nested one).
    pub fn field(&self) -> &str {
        self.param[self.module.len()..].trim_start_matches('.')
    }
}

fn selects(name: &str, module: &str) -> bool {
    module == name || module.ends_with(&format!(".{name}"))
}

/// The base parameters of the modules `names` select, in model order. Errors when a name
/// selects nothing, or when a selected parameter carries an adapter.
pub fn saved_params<M: Module>(model: &M, names: &[String]) -> Result<Vec<SavedParam>, PeftError> {
    let bases = base_params(model);
    let mut found = Vec::new();
    for name in names {
        let before = found.len();
        for entry in &bases {
            // The shortest module prefix of the path that the name selects.
            let parts: Vec<&str> = entry.path.split('.').collect();
            let module = (1..parts.len())
                .map(|n| parts[..n].join("."))
                .find(|module| selects(name, module));
            let Some(module) = module else { continue };
            if let Some(existing) = &entry.reparameterization {
                return Err(PeftError::Config {
                    method: METHOD,
                    key: "modules_to_save",
                    value: name.clone(),
                    reason: format!(
                        "parameter `{}` of the saved module is already adapted (`{existing}`); a module is \
                         either saved whole or adapted, not both",
                        entry.path
                    ),
                });
            }
            if !found.iter().any(|p: &SavedParam| p.param == entry.path) {
                found.push(SavedParam {
                    module,
                    param: entry.path.clone(),
                    id: entry.id,
                });
            }
        }
        if found.len() == before {
            let mut modules: Vec<String> = bases
                .iter()
                .filter_map(|p| p.path.rsplit_once('.').map(|(m, _)| m.to_string()))
                .collect();
            modules.dedup();
            return Err(PeftError::NoMatch {
                method: METHOD,
                pattern: name.clone(),
                available: modules.join(", "),
            });
        }
    }
    Ok(found)
}

/// Makes the parameters of the modules `names` select trainable (after a method froze them).
pub fn unfreeze_saved<M: Module>(model: M, names: &[String]) -> Result<M, PeftError> {
    if names.is_empty() {
        return Ok(model);
    }
    let params = saved_params(&model, names)?;
    let group = ParamGroup::from_ids(params.into_iter().map(|p| p.id).collect());
    Ok(model.set_require_grad_group(group, true))
}

/// `exclude_modules` extended so that no module `names` selects (nor any module inside one) is
/// an adapter target.
pub fn exclusion(exclude: Option<&TargetModules>, names: &[String]) -> Option<TargetModules> {
    if names.is_empty() {
        return exclude.cloned();
    }
    match exclude {
        None => Some(TargetModules::Regex(names_regex(names, true))),
        Some(TargetModules::Regex(regex)) => Some(TargetModules::Regex(format!(
            "(?:{regex})|{}",
            names_regex(names, true)
        ))),
        Some(TargetModules::Names(list)) => Some(TargetModules::Regex(format!(
            "{}|{}",
            names_regex(list, false),
            names_regex(names, true)
        ))),
    }
}

/// A full-match regex for "the path equals a name or ends with `.name`" (a `target_modules` list),
/// with `inner` widened to the modules inside such a module (`name.…`).
fn names_regex(names: &[String], inner: bool) -> String {
    let alternatives: Vec<String> = names.iter().map(|n| escape(n)).collect();
    let tail = if inner { "(?:\\..*)?" } else { "" };
    format!("(?:(?:.*\\.)?(?:{}){tail})", alternatives.join("|"))
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~ ".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(regex: &str, module: &str) -> bool {
        TargetModules::Regex(regex.into())
            .compile("test")
            .unwrap()
            .matches(module)
    }

    #[test]
    fn exclusion_covers_names_suffixes_and_inner_modules() {
        let Some(TargetModules::Regex(r)) = exclusion(None, &["output".into(), "a.b".into()]) else {
            panic!("expected a regex")
        };
        for module in ["output", "net.output", "output.inner", "a.b", "x.a.b"] {
            assert!(matches(&r, module), "{module} should be excluded by {r}");
        }
        for module in ["outputs", "hidden.0", "a.bc", "axb"] {
            assert!(!matches(&r, module), "{module} should not be excluded by {r}");
        }
    }

    #[test]
    fn exclusion_keeps_the_user_pattern() {
        let user = TargetModules::Regex(r"hidden\.1".into());
        let Some(TargetModules::Regex(r)) = exclusion(Some(&user), &["output".into()]) else {
            panic!("expected a regex")
        };
        assert!(matches(&r, "hidden.1") && matches(&r, "output") && !matches(&r, "hidden.0"));
        let user = TargetModules::Names(vec!["1".into()]);
        let Some(TargetModules::Regex(r)) = exclusion(Some(&user), &["output".into()]) else {
            panic!("expected a regex")
        };
        assert!(matches(&r, "hidden.1") && matches(&r, "output") && !matches(&r, "hidden.0"));
        // The user's list keeps peft's list semantics: `1` does not exclude modules inside `x.1`.
        assert!(!matches(&r, "hidden.1.inner") && matches(&r, "output.inner"));
        assert_eq!(exclusion(Some(&user), &[]), Some(user));
    }
}
