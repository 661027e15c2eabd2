//! The shipped scenarios (embedded in the binary, so `dim --scenario NAME` works from anywhere) and finding a scenario by name or path.

use std::path::Path;

/// Shipped scenarios: name and text (`scenarios/NAME.toml` in the repository).
pub const SHIPPED: &[(&str, &str)] = &[
    ("demo", include_str!("../../../../scenarios/demo.toml")),
    ("steady-zipf", include_str!("../../../../scenarios/steady-zipf.toml")),
    ("flash-crowd", include_str!("../../../../scenarios/flash-crowd.toml")),
    ("chaos-storm", include_str!("../../../../scenarios/chaos-storm.toml")),
    (
        "provider-outage",
        include_str!("../../../../scenarios/provider-outage.toml"),
    ),
    (
        "growing-files",
        include_str!("../../../../scenarios/growing-files.toml"),
    ),
    ("cost-squeeze", include_str!("../../../../scenarios/cost-squeeze.toml")),
    (
        "storage-classes",
        include_str!("../../../../scenarios/storage-classes.toml"),
    ),
];

/// Why `--scenario SPEC` names no scenario.
#[derive(Debug, thiserror::Error)]
pub enum NotFound {
    #[error("{spec}: cannot read the scenario file: {source}")]
    Unreadable { spec: String, source: std::io::Error },
    #[error("{spec}: no such file, and no shipped scenario of that name\n  help: {hint}")]
    NoSuchScenario { spec: String, hint: String },
}

/// The scenario `spec` names: a file if one exists at that path, else a shipped scenario
/// (`chaos-storm` or `chaos-storm.toml`). Returns the name to show in messages and the text.
pub fn resolve(spec: &str) -> Result<(String, String), NotFound> {
    let path = Path::new(spec);
    if path.is_file() {
        return std::fs::read_to_string(path)
            .map(|t| (spec.to_string(), t))
            .map_err(|source| NotFound::Unreadable {
                spec: spec.to_string(),
                source,
            });
    }
    let name = spec.trim_end_matches(".toml");
    let name = name.rsplit('/').next().unwrap_or(name);
    if let Some((n, text)) = SHIPPED.iter().find(|(n, _)| *n == name) {
        return Ok((format!("scenarios/{n}.toml"), text.to_string()));
    }
    let hint = match crate::config::closest(name, SHIPPED.iter().map(|(n, _)| *n)) {
        Some(c) => format!("did you mean `{c}`?"),
        None => "`dim scenario list` shows the shipped ones".to_string(),
    };
    Err(NotFound::NoSuchScenario {
        spec: spec.to_string(),
        hint,
    })
}

/// The first comment paragraph of a scenario file: what it shows.
pub fn blurb(text: &str) -> String {
    text.lines()
        .take_while(|l| l.starts_with('#'))
        .map(|l| l.trim_start_matches('#').trim())
        .take_while(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
