//! Reading a `RunConfig`: TOML text, then `--set key=value` overrides, then environment
//! variables for keys neither gave. Precedence: flag > config file > environment.

use crate::config::RunConfig;
use crate::error::{Result, TrainError};
use std::path::Path;

/// Environment variables consulted when neither a flag nor the config file sets the key.
pub const ENV_KEYS: [(&str, &str); 2] = [("PLASTICITY_DATA", "data.data_dir"), ("PLASTICITY_DEVICE", "device")];

/// Reads and validates a config file, applying `overrides` (`key=value`, dotted keys, TOML
/// values; a bare word is a string) and then the environment.
pub fn load_config(path: &Path, overrides: &[String]) -> Result<RunConfig> {
    let text = std::fs::read_to_string(path).map_err(|e| TrainError::io(path, e))?;
    parse_config(&text, &path.display().to_string(), overrides)
}

/// As [`load_config`], from text; `origin` names the source in errors.
pub fn parse_config(text: &str, origin: &str, overrides: &[String]) -> Result<RunConfig> {
    // First pass on the text itself, so errors carry the line of the offending key.
    toml::from_str::<RunConfig>(text).map_err(|e| toml_error(text, origin, &e))?;
    let had_optimizer = toml::from_str::<toml::Table>(text).is_ok_and(|t| t.contains_key("optimizer"));
    let mut table = base_table(text).map_err(|e| toml_error(text, origin, &e))?;
    for item in overrides {
        apply_override(&mut table, item)?;
    }
    for (var, key) in ENV_KEYS {
        if let Ok(value) = std::env::var(var)
            && !value.is_empty()
            && lookup(&table, key).is_none()
        {
            set(&mut table, key, toml::Value::String(value));
        }
    }
    if !had_optimizer {
        default_kinds(&mut table);
    }
    let config: RunConfig = table
        .clone()
        .try_into()
        .map_err(|e: toml::de::Error| blame_override(text, overrides, &e))?;
    crate::validate::validate(&config).map_err(|(key, msg)| {
        let at = find_key_line(text, &key).map(|l| format!(":{l}")).unwrap_or_default();
        TrainError::config(format!("{origin}{at}"), format!("{key}: {msg}"))
    })?;
    Ok(config)
}

/// The file's table, before overrides. A file without `[model]` uses the default MLP, so that
/// `--set model.hidden=[...]` adjusts it.
fn base_table(text: &str) -> Result<toml::Table, toml::de::Error> {
    let mut table: toml::Table = toml::from_str(text)?;
    if !table.contains_key("model") {
        set(&mut table, "model.kind", toml::Value::String("mlp".into()));
    }
    Ok(table)
}

/// A config file without `[optimizer]` uses Adam, also when `--set optimizer.lr=…` creates the
/// table. In a file, `[optimizer]` names its `kind`: the keys depend on it.
fn default_kinds(table: &mut toml::Table) {
    if lookup(table, "optimizer").is_some() && lookup(table, "optimizer.kind").is_none() {
        set(table, "optimizer.kind", toml::Value::String("adam".into()));
    }
}

/// Names the first `--set` (or environment variable) that makes the config invalid.
fn blame_override(text: &str, overrides: &[String], err: &toml::de::Error) -> TrainError {
    let mut table = base_table(text).unwrap_or_default();
    for item in overrides {
        if apply_override(&mut table, item).is_ok() && table.clone().try_into::<RunConfig>().is_err() {
            return TrainError::config(format!("--set {item}"), err.message().trim().replace('\n', " "));
        }
    }
    let vars: Vec<&str> = ENV_KEYS.iter().map(|(var, _)| *var).collect();
    TrainError::config(
        format!("environment ({})", vars.join(", ")),
        err.message().trim().replace('\n', " "),
    )
}

/// Applies one `key=value` override.
pub fn apply_override(table: &mut toml::Table, item: &str) -> Result<()> {
    let Some((key, raw)) = item.split_once('=') else {
        return Err(TrainError::config(
            "--set",
            format!("`{item}` is not key=value (for example --set optimizer.lr=0.01)"),
        ));
    };
    let key = key.trim();
    if key.is_empty() || key.split('.').any(str::is_empty) {
        return Err(TrainError::config(
            "--set",
            format!("`{key}` is not a dotted key such as train.epochs"),
        ));
    }
    let raw = raw.trim();
    let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()));
    set(table, key, value);
    Ok(())
}

fn lookup<'a>(table: &'a toml::Table, key: &str) -> Option<&'a toml::Value> {
    let mut parts = key.split('.').peekable();
    let mut current = table;
    while let Some(part) = parts.next() {
        let value = current.get(part)?;
        if parts.peek().is_none() {
            return Some(value);
        }
        current = value.as_table()?;
    }
    None
}

fn set(table: &mut toml::Table, key: &str, value: toml::Value) {
    let mut parts: Vec<&str> = key.split('.').collect();
    let leaf = parts.pop().unwrap_or(key);
    let mut current = table;
    for part in parts {
        let entry = current
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        let toml::Value::Table(inner) = entry else {
            unreachable!("made a table above")
        };
        current = inner;
    }
    current.insert(leaf.to_string(), value);
}

/// `origin:line:col: message` from a TOML error with a span.
fn toml_error(text: &str, origin: &str, err: &toml::de::Error) -> TrainError {
    let message = err.message().trim().replace('\n', " ");
    let at = err
        .span()
        .map(|span| {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            // A tagged table (`[optimizer]`, `[model]`) is read whole, so serde reports an
            // unknown key at the table: point at the key's own line instead.
            match inside_table(text, line, &message) {
                Some((line, col)) => format!(":{line}:{col}"),
                None => format!(":{line}:{col}"),
            }
        })
        .unwrap_or_default();
    TrainError::config(format!("{origin}{at}"), message)
}

/// For an error that serde reports at a table header on `line`, where in the table it is: the
/// line of the unknown key (column 1), or of the quoted value the message names.
fn inside_table(text: &str, line: usize, message: &str) -> Option<(usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    if !lines.get(line - 1)?.trim_start().starts_with('[') {
        return None;
    }
    let table = lines[line..].iter().take_while(|l| !l.trim_start().starts_with('['));
    if let Some(key) = message.strip_prefix("unknown field `").and_then(|k| k.split('`').next()) {
        let at = table.clone().position(|l| l.split_once('=').is_some_and(|(k, _)| k.trim() == key))?;
        return Some((line + at + 1, 1));
    }
    let quoted = message.split('"').nth(1).map(|v| format!("\"{v}\""))?;
    table
        .enumerate()
        .find_map(|(i, l)| l.find(&quoted).map(|c| (line + i + 1, l[..c].chars().count() + 1)))
}

/// The 1-based line where a dotted key (`optimizer.lr`) is assigned, if it is in the text.
pub fn find_key_line(text: &str, key: &str) -> Option<usize> {
    let (table, leaf) = key.rsplit_once('.').unwrap_or(("", key));
    let mut section = String::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if let Some(name) = trimmed.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            section = name.trim().to_string();
            continue;
        }
        if let Some((k, _)) = trimmed.split_once('=') {
            let k = k.trim();
            let full = if section.is_empty() {
                k.to_string()
            } else {
                format!("{section}.{k}")
            };
            if full == key || (section == table && k == leaf) {
                return Some(i + 1);
            }
        }
    }
    None
}
