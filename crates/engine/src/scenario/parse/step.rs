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
    let t = v.as_table().ok_or_else(|| {
        r.err(
            &format!("step[{i}]"),
            "a step must be a table",
            "write it as [[step]] with `at` and `do`",
        )
    })?;
    let at = at_of(r, i, t, duration)?;
    let kind = match t.get("do") {
        Some(v) => r.string(&key_of(i, "do"), v)?,
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
            &key_of(i, "do"),
            format!("unknown step `{written}`"),
            did_you_mean(&written, kinds().map(|k| k.0), "steps"),
        ));
    };
    let mut allowed: Vec<&str> = vec!["at", "do"];
    allowed.extend(fields.iter());
    r.unknown_keys(&format!("step[{i}]"), t, &allowed, &format!("for a `{written}` step"))?;
    let fields = Fields {
        r,
        i,
        t,
        written: &written,
    };
    let command = command_of(&fields, kind, tiers, cfg)?;
    if cfg.events.source == SourceKind::Kafka && command.drives_workload() {
        return Err(r.err(
            &key_of(i, "do"),
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

/// One step's table as written: where it is and its fields, for messages that name it so.
struct Fields<'a, 'r> {
    r: &'a Reader<'r>,
    i: usize,
    t: &'a toml::Table,
    written: &'a str,
}

impl Fields<'_, '_> {
    /// The field's place for messages: `step[3].tier`.
    fn key(&self, f: &str) -> String {
        key_of(self.i, f)
    }

    fn get(&self, f: &str) -> Option<&toml::Value> {
        self.t.get(f)
    }

    /// A field the step must have.
    fn need(&self, f: &str) -> Result<&toml::Value, Err> {
        self.get(f).ok_or_else(|| {
            self.r.err(
                &format!("step[{}]", self.i),
                format!("a `{}` step needs `{f}`", self.written),
                format!("add {f} = …"),
            )
        })
    }
}

/// The command a step of `kind` sends, from its fields.
fn command_of(f: &Fields, kind: CommandKind, tiers: &[String], cfg: &Config) -> Result<Command, Err> {
    Ok(match kind {
        CommandKind::SetEventRate => {
            let per_sec = f.r.number(&f.key("per_sec"), f.need("per_sec")?)?;
            if per_sec < 0.0 {
                return Err(f
                    .r
                    .err(&f.key("per_sec"), "the rate cannot be negative", "0 stops the workload"));
            }
            Command::SetEventRate { per_sec }
        }
        CommandKind::SetSkew => Command::SetSkew {
            skew: f.r.number(&f.key("skew"), f.need("skew")?)?,
        },
        CommandKind::FlashCrowd => Command::FlashCrowd {
            objects: f
                .get("objects")
                .map(|v| f.r.count(&f.key("objects"), v))
                .transpose()?
                .unwrap_or(1)
                .max(1),
        },
        CommandKind::PutBurst => Command::PutBurst {
            objects: f.r.count(&f.key("objects"), f.need("objects")?)?,
        },
        CommandKind::GrowObjects => Command::GrowObjects {
            objects: f.r.count(&f.key("objects"), f.need("objects")?)?,
            engine_secs: f.r.duration(&f.key("for"), f.need("for")?)?.as_secs(),
        },
        CommandKind::Chaos => chaos(f, tiers, cfg)?,
        CommandKind::ChaosClear => Command::ChaosClear {
            tier: f.get("tier").map(|v| f.r.tier(&f.key("tier"), v, tiers)).transpose()?,
        },
        CommandKind::PauseMigrations => Command::PauseMigrations,
        CommandKind::ResumeMigrations => Command::ResumeMigrations,
        CommandKind::RetryFailed => Command::RetryFailed,
        CommandKind::OptimizeNow => Command::OptimizeNow,
        CommandKind::RetrainNow => Command::RetrainNow,
        CommandKind::Rescan => Command::Rescan,
        CommandKind::SetCapacity => Command::SetCapacity {
            tier: f.r.tier(&f.key("tier"), f.need("tier")?, tiers)?,
            bytes: f.r.size(&f.key("size"), f.need("size")?)?,
        },
        CommandKind::PauseScenario
        | CommandKind::CancelTask
        | CommandKind::MigrateNow
        | CommandKind::Pin
        | CommandKind::Inspect => {
            return Err(f.r.err(&f.key("do"), format!("unknown step `{}`", f.written), ""));
        }
    })
}

/// A chaos step: the tier and the faults to inject there (latency, jitter, errors of a kind,
/// an outage, a bandwidth limit).
fn chaos(f: &Fields, tiers: &[String], cfg: &Config) -> Result<Command, Err> {
    let tier = f.r.tier(&f.key("tier"), f.need("tier")?, tiers)?;
    let error_rate = f
        .get("error_rate")
        .map(|v| f.r.number(&f.key("error_rate"), v))
        .transpose()?
        .unwrap_or(0.0);
    if !(0.0..=100.0).contains(&error_rate) {
        return Err(f.r.err(
            &f.key("error_rate"),
            format!("the error rate is a percentage, got {error_rate}"),
            "between 0 and 100",
        ));
    }
    let error_kind = match f.get("error_kind") {
        None => None,
        Some(v) => {
            let s = f.r.string(&f.key("error_kind"), v)?;
            let parsed: Option<config::InjectedError> = toml::Value::String(s.clone()).try_into().ok();
            match parsed {
                Some(k) => Some(k),
                None => {
                    return Err(f.r.err(
                        &f.key("error_kind"),
                        format!("unknown error kind `{s}`"),
                        did_you_mean(&s, config::InjectedError::names(), "kinds"),
                    ));
                }
            }
        }
    };
    let whole = |name: &str| {
        f.get(name)
            .map(|v| f.r.count(&f.key(name), v))
            .transpose()
            .map(|o| o.unwrap_or(0) as u64)
    };
    Ok(Command::Chaos {
        tier,
        settings: ChaosSettings {
            latency_ms: whole("latency_ms")?,
            jitter_ms: whole("jitter_ms")?,
            error_rate,
            error_kind: error_kind.or(Some(cfg.chaos.error_kind)),
            outage: match f.get("outage") {
                None => false,
                Some(toml::Value::Boolean(b)) => *b,
                Some(v) => {
                    return Err(f.r.err(
                        &f.key("outage"),
                        format!("expected true or false, found {v}"),
                        "outage = true takes the tier down",
                    ));
                }
            },
            bandwidth_bps: f
                .get("bandwidth")
                .map(|v| f.r.size(&f.key("bandwidth"), v))
                .transpose()?,
        },
    })
}

/// When a step fires, engine time since the scenario started: required, and within `duration`.
fn at_of(r: &Reader, i: usize, t: &toml::Table, duration: Duration) -> Result<Duration, Err> {
    let at = match t.get("at") {
        Some(v) => r.duration(&key_of(i, "at"), v)?,
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
            &key_of(i, "at"),
            format!(
                "the step is at {}, after the scenario ends ({})",
                humantime::format_duration(at),
                humantime::format_duration(duration)
            ),
            "move it earlier or make `duration` longer",
        ));
    }
    Ok(at)
}

/// A field's place in messages: `step[3].tier`.
fn key_of(i: usize, f: &str) -> String {
    format!("step[{i}].{f}")
}
