//! Layering the user file over the embedded default, and turning every problem into file:line: message.

use std::fmt;
use std::path::Path;

use serde::de::DeserializeOwned;
use toml::de::{DeTable, DeValue};

use super::{Config, DEFAULT_TOML, SectionCheck, validate};

/// A configuration problem, located in the user's file where possible.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ConfigError {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Dotted path of the offending field, e.g. `tiers[1].capacity_gb`.
    pub key: Option<String>,
    pub message: String,
    /// What to do about it.
    pub help: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        write!(f, ": ")?;
        if let Some(key) = &self.key {
            write!(f, "`{key}`: ")?;
        }
        write!(f, "{}", self.message)?;
        if !self.help.is_empty() {
            write!(f, "\n  help: {}", self.help)?;
        }
        Ok(())
    }
}

/// Reads `path` (if given) and layers it over the embedded default.
pub fn load(path: Option<&Path>) -> Result<Config, Box<ConfigError>> {
    load_with(path, &[])
}

/// `load`, also running `checks` of sections other modules own (located like the rest).
pub fn load_with(path: Option<&Path>, checks: &[SectionCheck]) -> Result<Config, Box<ConfigError>> {
    match path {
        None => load_str_with(None, "", checks),
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| {
                Box::new(ConfigError {
                    file: p.display().to_string(),
                    line: None,
                    column: None,
                    key: None,
                    message: format!("cannot read the config file: {e}"),
                    help: "check the path given to --config".into(),
                })
            })?;
            load_str_with(Some(p), &text, checks)
        }
    }
}

/// Layers `text` (the contents of `path`) over the embedded default and validates the result.
pub fn load_str(path: Option<&Path>, text: &str) -> Result<Config, Box<ConfigError>> {
    load_str_with(path, text, &[])
}

/// `load_str`, also running `checks` of sections other modules own (located like the rest).
pub fn load_str_with(path: Option<&Path>, text: &str, checks: &[SectionCheck]) -> Result<Config, Box<ConfigError>> {
    let file = path
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "<embedded default>".into());
    let source = Source { file, text };
    load_layered(&source, checks)
}

fn load_layered(source: &Source, checks: &[SectionCheck]) -> Result<Config, Box<ConfigError>> {
    let mut merged = merged(DEFAULT_TOML, "<embedded default>", source)?;
    fill_classes(&mut merged).map_err(|v| source.error_at(&v.key, v.message, v.help))?;
    let config: Config = deserialize_at_path(toml::Value::Table(merged))
        .map_err(|(key, msg)| Box::new(source.error_at(&key, msg, help_for_serde(&key, "<embedded default>"))))?;
    validate::validate(&config, checks).map_err(|v| source.error_at(&v.key, v.message, v.help))?;
    Ok(config)
}

/// Fills every tier that names a catalog `class` with the class's prices and minimums (fields
/// the tier sets win); an unknown class is refused with the closest name.
fn fill_classes(merged: &mut toml::Table) -> Result<(), validate::Invalid> {
    let Some(toml::Value::Array(tiers)) = merged.get_mut("tiers") else {
        return Ok(());
    };
    for (i, t) in tiers.iter_mut().enumerate() {
        let toml::Value::Table(t) = t else { continue };
        super::catalog::fill(t).map_err(|e| validate::Invalid {
            key: format!("tiers[{i}].class"),
            message: format!("no storage class named {:?} in the catalog", e.name),
            help: match e.closest {
                Some(c) => format!("did you mean {c:?}? `dim catalog` lists every class"),
                None => format!(
                    "use one of {} (`dim catalog` lists them with their prices)",
                    super::catalog::names().join(", ")
                ),
            },
        })?;
        let missing: Vec<&str> = REQUIRED_TIER_FIELDS
            .into_iter()
            .filter(|f| !t.contains_key(*f))
            .collect();
        if !missing.is_empty() {
            return Err(validate::Invalid {
                key: format!("tiers[{i}]"),
                message: format!("this tier lacks {}", missing.join(", ")),
                help: format!(
                    "set them, or name a catalog class (`dim catalog`) that gives the prices and \
                     latency; capacity_gb may be left out (no limit). A complete tier:\n{EXAMPLE_TIER}"
                ),
            });
        }
    }
    Ok(())
}

/// What a tier must say, itself or through its catalog class.
const REQUIRED_TIER_FIELDS: [&str; 4] = ["name", "backend", "storage_gb_month", "latency_ms"];

const EXAMPLE_TIER: &str = "  [[tiers]]\n  name = \"cold\"\n  backend = \"local\"\n  class = \"aws:s3-standard-ia\"   # or storage_gb_month = 0.0125 and latency_ms = 25\n  capacity_gb = 500               # optional";

/// Layers the TOML `source` over `default` (tables merge key by key, arrays are replaced) and
/// deserialises the result, locating any problem in the user's file. Themes use it too.
pub fn layered<T: DeserializeOwned>(default: &str, default_name: &str, source: &Source) -> Result<T, Box<ConfigError>> {
    let merged = merged(default, default_name, source)?;
    deserialize_at_path(toml::Value::Table(merged))
        .map_err(|(key, msg)| Box::new(source.error_at(&key, msg, help_for_serde(&key, default_name))))
}

/// The TOML `source` merged over `default`, before deserialising.
fn merged(default: &str, default_name: &str, source: &Source) -> Result<toml::Table, Box<ConfigError>> {
    let mut merged: toml::Table = toml::from_str(default).map_err(|e| ConfigError {
        file: default_name.into(),
        line: None,
        column: None,
        key: None,
        message: format!("embedded default is not valid TOML: {e}"),
        help: "this is a bug in dim; please report it".into(),
    })?;
    let user: toml::Table = toml::from_str(source.text).map_err(|e| source.syntax_error(&e))?;
    merge(&mut merged, user);
    Ok(merged)
}

/// Layers `over` (a table found at `prefix` in `source`, e.g. a scenario's `[config]`) over an
/// already loaded `cfg`, validates the result (with `checks`), and locates any problem in `source`.
pub fn overlay(
    cfg: &Config,
    over: toml::Table,
    source: &Source,
    prefix: &str,
    checks: &[SectionCheck],
) -> Result<Config, Box<ConfigError>> {
    let mut base = match toml::Value::try_from(cfg) {
        Ok(toml::Value::Table(t)) => t,
        _ => {
            return Err(Box::new(source.error_at(
                prefix,
                "the configuration cannot be represented as TOML".into(),
                "this is a bug in dim; please report it".into(),
            )));
        }
    };
    merge(&mut base, over);
    let at = |key: &str| format!("{prefix}.{key}");
    fill_classes(&mut base).map_err(|v| Box::new(source.error_at(&at(&v.key), v.message, v.help)))?;
    let config: Config = deserialize_at_path(toml::Value::Table(base))
        .map_err(|(key, msg)| Box::new(source.error_at(&at(&key), msg, help_for_serde(&key, "<embedded default>"))))?;
    validate::validate(&config, checks).map_err(|v| Box::new(source.error_at(&at(&v.key), v.message, v.help)))?;
    Ok(config)
}

/// Deep merge: tables merge key by key, everything else (arrays included) is replaced.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

fn deserialize_at_path<T: DeserializeOwned>(value: toml::Value) -> Result<T, (String, String)> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let key = e.path().to_string();
        let msg = in_words(e.into_inner().message().trim());
        (key, msg)
    })
}

/// serde's message with what it expected in a person's words: "expected struct TextColors"
/// becomes "expected a table of settings", "expected u64" "expected a whole number (0 or more)".
fn in_words(msg: &str) -> String {
    let Some((head, expected)) = msg.rsplit_once("expected ") else {
        return msg.to_string();
    };
    let words = match expected {
        e if e.starts_with("struct ") || e == "a map" => "a table of settings (a [section])",
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number (0 or more)",
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number",
        "f32" | "f64" => "a number",
        "a sequence" => "a list ([ … ])",
        "a boolean" => "true or false",
        other => other,
    };
    format!("{head}expected {words}")
}

fn help_for_serde(key: &str, reference: &str) -> String {
    let reference = if reference == "<embedded default>" {
        "config/default.toml"
    } else {
        reference
    };
    if key.is_empty() || key == "." {
        format!("compare with the reference in {reference}")
    } else {
        format!("fix or remove `{key}`; every field and its meaning is listed in {reference}")
    }
}

/// A user's TOML file: its name (for messages) and its text (for line numbers).
pub struct Source<'a> {
    pub file: String,
    pub text: &'a str,
}

impl Source<'_> {
    pub fn syntax_error(&self, e: &toml::de::Error) -> ConfigError {
        let (line, column) = e
            .span()
            .map(|s| line_col(self.text, s.start))
            .map_or((None, None), |(l, c)| (Some(l), Some(c)));
        ConfigError {
            file: self.file.clone(),
            line,
            column,
            key: None,
            message: e.message().trim().to_string(),
            help: "fix the TOML syntax at that position".into(),
        }
    }

    /// 1-based line of dotted `key` (or the closest part of it present) in the file.
    pub fn line_of(&self, key: &str) -> Option<usize> {
        locate(self.text, key, false).map(|off| line_col(self.text, off).0)
    }

    /// Builds an error for dotted `key`, pointing at the closest part of it present in the user
    /// file: at the key when the key itself is wrong (unknown), else at its value.
    pub fn error_at(&self, key: &str, message: String, help: String) -> ConfigError {
        let at_value = !message.starts_with("unknown field");
        let pos = locate(self.text, key, at_value).map(|off| line_col(self.text, off));
        ConfigError {
            file: self.file.clone(),
            line: pos.map(|p| p.0),
            column: pos.map(|p| p.1),
            key: (!key.is_empty() && key != ".").then(|| key.to_string()),
            message,
            help,
        }
    }
}

/// 1-based line and column of byte offset `off`.
fn line_col(text: &str, off: usize) -> (usize, usize) {
    let before = &text[..off.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Byte offset of the deepest existing prefix of `path` (`a.b[2].c`) in `text`: with `at_value`,
/// the value itself when the whole path is there and holds one (the column a reader fixes),
/// else the key.
fn locate(text: &str, path: &str, at_value: bool) -> Option<usize> {
    let doc = DeTable::parse(text).ok()?;
    let mut best = None;
    let mut table: Option<&DeTable> = Some(doc.get_ref());
    let mut value: Option<&DeValue> = None;
    let segs = split_path(path);
    let whole = segs.len();
    for (n, seg) in segs.into_iter().enumerate() {
        let next = match (seg, table, value) {
            (Seg::Key(k), Some(t), _) => t.iter().find(|(key, _)| key.get_ref() == k).map(|(key, v)| {
                best = Some(key.span().start);
                v
            }),
            (Seg::Index(i), _, Some(DeValue::Array(a))) => a.get(i).inspect(|v| {
                best = Some(v.span().start);
            }),
            _ => None,
        };
        let Some(v) = next else { break };
        if at_value && n + 1 == whole && !matches!(v.get_ref(), DeValue::Table(_)) && v.span().start > 0 {
            best = Some(v.span().start);
        }
        value = Some(v.get_ref());
        table = match v.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => None,
        };
    }
    best
}

enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

fn split_path(path: &str) -> Vec<Seg<'_>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let mut rest = part;
        if let Some(b) = rest.find('[') {
            out.push(Seg::Key(&rest[..b]));
            rest = &rest[b..];
            while let Some(stripped) = rest.strip_prefix('[') {
                let Some(end) = stripped.find(']') else { break };
                if let Ok(i) = stripped[..end].parse() {
                    out.push(Seg::Index(i));
                }
                rest = &stripped[end + 1..];
            }
        } else {
            out.push(Seg::Key(rest));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_nested_paths() {
        let text = "[sla]\nhot_latency_ms = 5\n\n[[tiers]]\nname = \"a\"\n\n[[tiers]]\nname = \"b\"\ncapacity_gb = 0\n";
        assert_eq!(
            locate(text, "sla.hot_latency_ms", false).map(|o| line_col(text, o).0),
            Some(2)
        );
        assert_eq!(
            locate(text, "tiers[1].capacity_gb", false).map(|o| line_col(text, o).0),
            Some(9)
        );
        // Missing leaf: falls back to the deepest existing parent, the second [[tiers]] header.
        assert_eq!(
            locate(text, "tiers[1].latency_ms", false).map(|o| line_col(text, o).0),
            Some(7)
        );
    }
}
