//! `dim scenario list|check|figures`, and turning `--scenario` into a validated scenario plus the config it runs with.

use crate::cli::ScenarioAction;
use crate::config::Config;
use crate::engine::scenario::{OLD_KINDS, Scenario, figures, kinds, library};

/// The scenario `spec` names, validated against `cfg`, and the configuration it runs with.
/// The error is ready to print: file, line, what is wrong and what to do.
pub fn load(spec: &str, cfg: &Config) -> Result<(Scenario, Config), String> {
    let (file, text) = library::resolve(spec).map_err(|e| e.to_string())?;
    Scenario::load_with(&file, &text, cfg, crate::tui::CONFIG_CHECKS).map_err(|e| e.to_string())
}

/// `dim scenario list|check|figures`.
pub fn run(action: ScenarioAction, cfg: &Config) -> anyhow::Result<()> {
    match action {
        ScenarioAction::List => list(),
        ScenarioAction::Check { scenario } => return check(&scenario, cfg),
        ScenarioAction::Figures => figures_help(cfg),
    }
    Ok(())
}

pub fn list() {
    println!("Shipped scenarios (dim --scenario NAME, or --daemon --scenario NAME for a report):\n");
    for (name, text) in library::SHIPPED {
        println!("  {name:<16} {}", library::blurb(text));
    }
    println!(
        "\nA scenario file of your own: dim --scenario path/to/file.toml (format: the Scenarios section of README.md; the shipped ones are in scenarios/)"
    );
}

pub fn check(spec: &str, cfg: &Config) -> anyhow::Result<()> {
    let (sc, run_cfg) = load(spec, cfg).map_err(|e| anyhow::anyhow!("invalid scenario\n{e}"))?;
    let ends = sc.expects.iter().filter(|e| e.at_ms.is_none()).count();
    println!(
        "{}: ok — {} ({} engine time at ×{} ≈ {:.0} s wall), {} steps, {} expectations ({} at the end)",
        sc.file,
        sc.name,
        humantime::format_duration(std::time::Duration::from_millis(sc.duration_ms as u64)),
        run_cfg.clock.speed,
        sc.duration_ms as f64 / 1000.0 / run_cfg.clock.speed,
        sc.steps.len(),
        sc.expects.len(),
        ends
    );
    for s in &sc.steps {
        println!(
            "  @{:<10} {}",
            humantime::format_duration(std::time::Duration::from_millis(s.at_ms as u64)).to_string(),
            s.describe()
        );
    }
    for e in &sc.expects {
        let at = e.at_ms.map_or("end".into(), |ms| {
            humantime::format_duration(std::time::Duration::from_millis(ms as u64)).to_string()
        });
        println!("  expect @{at:<6} {}", e.text);
    }
    Ok(())
}

pub fn figures_help(cfg: &Config) {
    println!(
        "Figures an expectation can compare (FIGURE OP VALUE; OP: >= <= == != > <; VALUE: a number, a size like 50MB, or another figure):\n"
    );
    for (name, what) in figures::GLOBAL {
        println!("  {name:<30} {what}");
    }
    let example = cfg.tiers.first().map_or("NAME", |t| t.name.as_str());
    println!("\nPer tier, tier.NAME.FIELD (e.g. tier.{example}.hot_share):\n");
    for (field, what) in figures::PER_TIER {
        println!("  {field:<30} {what}");
    }
    println!("\nStep kinds ([[step]] with at = \"30m\" and do = KIND):\n");
    for (kind, fields, what) in kinds() {
        let f = if fields.is_empty() {
            String::new()
        } else {
            format!(" ({})", fields.join(", "))
        };
        let was = OLD_KINDS
            .iter()
            .find(|(_, name)| *name == kind)
            .map(|(old, _)| format!(" (also read: {old})"))
            .unwrap_or_default();
        println!("  {:<30} {what}{was}", format!("{kind}{f}"));
    }
}
