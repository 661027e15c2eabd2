//! One `[[step]]`: its time, its kind and fields, turned into the `Command` it sends.

use std::time::Duration;

use strum::IntoEnumIterator;

use super::reader::Err;
use super::reader::{Reader, did_you_mean, line_of, ms};
use crate::command::{Command, CommandKind};
use crate::config::{self, Config, SourceKind};
use crate::scenario::Step;
use crate::tiers::chaos::ChaosSettings;

/// What a step of `kind` takes and does: its fields and a line of help; `None` for a command no
/// scenario sends (it acts on one object, or on the dashboard, or on the scenario itself). The
/// match names every command, so a new one is a decision here, not a forgotten step.
pub(super) fn step_of(kind: CommandKind) -> Option<(&'static [&'static str], &'static str)> {
    use CommandKind as K;
    Some(match kind {
        K::SetEventRate => (&["per_sec"], "events per wall second of the embedded workload"),
        K::SetSkew => (&["skew"], "Zipf exponent of object popularity"),
        K::FlashCrowd => (&["objects"], "a flash crowd on `objects` cold objects (default 1)"),
        K::PutBurst => (&["objects"], "`objects` new objects uploaded at once"),
        K::GrowObjects => (
            &["objects", "for"],
            "keep `objects` objects (those queued for a move first) growing for `for`",
        ),
        K::Chaos => (
            &[
                "tier",
                "latency_ms",
                "jitter_ms",
                "error_rate",
                "error_kind",
                "outage",
                "bandwidth",
            ],
            "inject faults on a tier (replaces what was injected there)",
        ),
        K::ChaosClear => (&["tier"], "stop injecting on `tier`, or on every tier"),
        K::PauseMigrations => (&[], "stop starting moves"),
        K::ResumeMigrations => (&[], "start moves again"),
        K::RetryFailed => (&[], "failed moves go back to the queue"),
        K::OptimizeNow => (&[], "re-plan placement now"),
        K::RetrainNow => (&[], "retrain the hotness model now"),
        K::Rescan => (&[], "list every tier again"),
        K::SetCapacity => (&["tier", "size"], "change a tier's capacity, e.g. size = \"50MB\""),
        K::PauseScenario | K::CancelTask | K::MigrateNow | K::Pin | K::Inspect => return None,
    })
}

/// Step kinds: name (the command's, as `Command`'s serde tag spells it), the fields it takes,
/// what it does.
pub fn kinds() -> impl Iterator<Item = (&'static str, &'static [&'static str], &'static str)> + Clone {
    CommandKind::iter().filter_map(|k| step_of(k).map(|(fields, what)| (k.name(), fields, what)))
}

/// The first scenario spellings, still read: (old, the command's name).
pub const OLD_KINDS: &[(&str, &str)] = &[
    ("rate", "set_event_rate"),
    ("skew", "set_skew"),
    ("grow", "grow_objects"),
    ("capacity", "set_capacity"),
    ("optimize", "optimize_now"),
    ("retrain", "retrain_now"),
];

pub(super) fn step(
    r: &Reader,
    i: usize,
    v: &toml::Value,
    duration: Duration,
    tiers: &[String],
    cfg: &Config,
) -> Result<Step, Err> {
    let at_key = |f: &str| format!("step[{i}].{f}");
    let t = v.as_table().ok_or_else(|| {
        r.err(
            &format!("step[{i}]"),
            "a step must be a table",
            "write it as [[step]] with `at` and `do`",
        )
    })?;
    let at = match t.get("at") {
        Some(v) => r.duration(&at_key("at"), v)?,
        None => {
            return Err(r.err(
                &format!("step[{i}]"),
                "the step has no `at`",
                "add at = \"30m\" (engine time since the scenario started)",
            ));
        }
    };
    if at > duration {
        return Err(r.err(
            &at_key("at"),
            format!(
                "the step is at {}, after the scenario ends ({})",
                humantime::format_duration(at),
                humantime::format_duration(duration)
            ),
            "move it earlier or make `duration` longer",
        ));
    }
    let kind = match t.get("do") {
        Some(v) => r.string(&at_key("do"), v)?,
        None => {
            return Err(r.err(
                &format!("step[{i}]"),
                "the step has no `do`",
                did_you_mean("", kinds().map(|k| k.0), "steps"),
            ));
        }
    };
    // Messages name the step as written; the step itself carries the command's name.
    let written = kind;
    let name = match OLD_KINDS.iter().find(|(old, _)| *old == written) {
        Some((_, name)) => name,
        None => written.as_str(),
    };
    let Some((kind, fields)) = name
        .parse::<CommandKind>()
        .ok()
        .and_then(|k| step_of(k).map(|(fields, _)| (k, fields)))
    else {
        return Err(r.err(
            &at_key("do"),
            format!("unknown step `{written}`"),
            did_you_mean(&written, kinds().map(|k| k.0), "steps"),
        ));
    };
    let mut allowed: Vec<&str> = vec!["at", "do"];
    allowed.extend(fields.iter());
    r.unknown_keys(&format!("step[{i}]"), t, &allowed, &format!("for a `{written}` step"))?;
    let get = |f: &str| t.get(f);
    let need = |f: &str| {
        get(f).ok_or_else(|| {
            r.err(
                &format!("step[{i}]"),
                format!("a `{written}` step needs `{f}`"),
                format!("add {f} = …"),
            )
        })
    };
    let command = match kind {
        CommandKind::SetEventRate => {
            let per_sec = r.number(&at_key("per_sec"), need("per_sec")?)?;
            if per_sec < 0.0 {
                return Err(r.err(
                    &at_key("per_sec"),
                    "the rate cannot be negative",
                    "0 stops the workload",
                ));
            }
            Command::SetEventRate { per_sec }
        }
        CommandKind::SetSkew => Command::SetSkew {
            skew: r.number(&at_key("skew"), need("skew")?)?,
        },
        CommandKind::FlashCrowd => Command::FlashCrowd {
            objects: get("objects")
                .map(|v| r.count(&at_key("objects"), v))
                .transpose()?
                .unwrap_or(1)
                .max(1),
        },
        CommandKind::PutBurst => Command::PutBurst {
            objects: r.count(&at_key("objects"), need("objects")?)?,
        },
        CommandKind::GrowObjects => Command::GrowObjects {
            objects: r.count(&at_key("objects"), need("objects")?)?,
            engine_secs: r.duration(&at_key("for"), need("for")?)?.as_secs(),
        },
        CommandKind::Chaos => {
            let tier = r.tier(&at_key("tier"), need("tier")?, tiers)?;
            let error_rate = get("error_rate")
                .map(|v| r.number(&at_key("error_rate"), v))
                .transpose()?
                .unwrap_or(0.0);
            if !(0.0..=100.0).contains(&error_rate) {
                return Err(r.err(
                    &at_key("error_rate"),
                    format!("the error rate is a percentage, got {error_rate}"),
                    "between 0 and 100",
                ));
            }
            let error_kind = match get("error_kind") {
                None => None,
                Some(v) => {
                    let s = r.string(&at_key("error_kind"), v)?;
                    let parsed: Option<config::InjectedError> = toml::Value::String(s.clone()).try_into().ok();
                    match parsed {
                        Some(k) => Some(k),
                        None => {
                            return Err(r.err(
                                &at_key("error_kind"),
                                format!("unknown error kind `{s}`"),
                                did_you_mean(&s, config::InjectedError::names(), "kinds"),
                            ));
                        }
                    }
                }
            };
            let whole = |f: &str| {
                get(f)
                    .map(|v| r.count(&at_key(f), v))
                    .transpose()
                    .map(|o| o.unwrap_or(0) as u64)
            };
            Command::Chaos {
                tier,
                settings: ChaosSettings {
                    latency_ms: whole("latency_ms")?,
                    jitter_ms: whole("jitter_ms")?,
                    error_rate,
                    error_kind: error_kind.or(Some(cfg.chaos.error_kind)),
                    outage: match get("outage") {
                        None => false,
                        Some(toml::Value::Boolean(b)) => *b,
                        Some(v) => {
                            return Err(r.err(
                                &at_key("outage"),
                                format!("expected true or false, found {v}"),
                                "outage = true takes the tier down",
                            ));
                        }
                    },
                    bandwidth_bps: get("bandwidth").map(|v| r.size(&at_key("bandwidth"), v)).transpose()?,
                },
            }
        }
        CommandKind::ChaosClear => Command::ChaosClear {
            tier: get("tier").map(|v| r.tier(&at_key("tier"), v, tiers)).transpose()?,
        },
        CommandKind::PauseMigrations => Command::PauseMigrations,
        CommandKind::ResumeMigrations => Command::ResumeMigrations,
        CommandKind::RetryFailed => Command::RetryFailed,
        CommandKind::OptimizeNow => Command::OptimizeNow,
        CommandKind::RetrainNow => Command::RetrainNow,
        CommandKind::Rescan => Command::Rescan,
        CommandKind::SetCapacity => Command::SetCapacity {
            tier: r.tier(&at_key("tier"), need("tier")?, tiers)?,
            bytes: r.size(&at_key("size"), need("size")?)?,
        },
        CommandKind::PauseScenario
        | CommandKind::CancelTask
        | CommandKind::MigrateNow
        | CommandKind::Pin
        | CommandKind::Inspect => {
            return Err(r.err(&at_key("do"), format!("unknown step `{written}`"), ""));
        }
    };
    if cfg.events.source == SourceKind::Kafka && command.drives_workload() {
        return Err(r.err(
            &at_key("do"),
            format!("`{written}` drives the embedded workload generator, but events.source = \"kafka\""),
            "produce the workload into the topic with `dim simulate`, or drop the step",
        ));
    }
    Ok(Step {
        at_ms: ms(at),
        line: line_of(r, &format!("step[{i}]")),
        kind: kind.name().to_string(),
        command,
    })
}
