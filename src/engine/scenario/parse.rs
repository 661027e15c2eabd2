//! Reading a scenario file: header, config overrides, steps and expectations, each checked with file:line and a suggestion.

use std::time::Duration;

use super::expect::Check;
use super::{Expectation, Scenario, Step};
use crate::config::{self, Config, ConfigError, SourceKind};
use crate::engine::command::Command;
use crate::engine::tiers::chaos::ChaosSettings;

type Err = Box<ConfigError>;

/// Step kinds: name, the fields it takes, what it does.
pub const KINDS: &[(&str, &[&str], &str)] = &[
    ("rate", &["per_sec"], "events per wall second of the embedded workload"),
    ("skew", &["skew"], "Zipf exponent of object popularity"),
    (
        "flash_crowd",
        &["objects"],
        "a flash crowd on `objects` cold objects (default 1)",
    ),
    ("put_burst", &["objects"], "`objects` new objects uploaded at once"),
    (
        "grow",
        &["objects", "for"],
        "keep `objects` objects (those queued for a move first) growing for `for`",
    ),
    (
        "chaos",
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
    ("chaos_clear", &["tier"], "stop injecting on `tier`, or on every tier"),
    ("pause_migrations", &[], "stop starting moves"),
    ("resume_migrations", &[], "start moves again"),
    ("retry_failed", &[], "failed moves go back to the queue"),
    ("optimize", &[], "re-plan placement now"),
    ("retrain", &[], "retrain the hotness model now"),
    ("rescan", &[], "list every tier again"),
    (
        "capacity",
        &["tier", "size"],
        "change a tier's capacity, e.g. size = \"50MB\"",
    ),
];

const TOP: &[&str] = &[
    "name",
    "description",
    "duration",
    "speed",
    "seed",
    "capacity",
    "config",
    "step",
    "expect",
];

const ERROR_KINDS: &[&str] = &["slow_down", "throttled", "internal", "timeout", "reset"];

struct Reader<'a> {
    src: config::Source<'a>,
}

impl Reader<'_> {
    fn err(&self, key: &str, message: impl Into<String>, help: impl Into<String>) -> Err {
        Box::new(self.src.error_at(key, message.into(), help.into()))
    }

    fn string(&self, key: &str, v: &toml::Value) -> Result<String, Err> {
        v.as_str().map(str::to_string).ok_or_else(|| {
            self.err(
                key,
                format!("expected a string, found {}", v.type_str()),
                "put it in quotes",
            )
        })
    }

    fn number(&self, key: &str, v: &toml::Value) -> Result<f64, Err> {
        match v {
            toml::Value::Integer(i) => Ok(*i as f64),
            toml::Value::Float(f) if f.is_finite() => Ok(*f),
            _ => Err(self.err(
                key,
                format!("expected a number, found {}", v.type_str()),
                "e.g. 30 or 0.5",
            )),
        }
    }

    fn count(&self, key: &str, v: &toml::Value) -> Result<usize, Err> {
        match v {
            toml::Value::Integer(i) if *i >= 0 => Ok(*i as usize),
            _ => Err(self.err(key, format!("expected a whole number ≥ 0, found {v}"), "e.g. 10")),
        }
    }

    fn duration(&self, key: &str, v: &toml::Value) -> Result<Duration, Err> {
        let s = self.string(key, v)?;
        humantime::parse_duration(&s).map_err(|e| {
            self.err(
                key,
                format!("`{s}` is not a duration: {e}"),
                "engine time such as \"90s\", \"15m\", \"2h\" or \"1h 30m\"",
            )
        })
    }

    fn size(&self, key: &str, v: &toml::Value) -> Result<u64, Err> {
        match v {
            toml::Value::Integer(i) if *i >= 0 => Ok(*i as u64),
            toml::Value::String(s) => s.parse::<bytesize::ByteSize>().map(|b| b.as_u64()).map_err(|e| {
                self.err(
                    key,
                    format!("`{s}` is not a size: {e}"),
                    "e.g. \"50MB\", \"1.5GiB\" or a number of bytes",
                )
            }),
            _ => Err(self.err(key, format!("expected a size, found {v}"), "e.g. \"50MB\"")),
        }
    }

    fn tier(&self, key: &str, v: &toml::Value, tiers: &[String]) -> Result<String, Err> {
        let t = self.string(key, v)?;
        if tiers.contains(&t) {
            return Ok(t);
        }
        Err(self.err(
            key,
            format!("unknown tier `{t}`"),
            did_you_mean(&t, tiers.iter().map(String::as_str), "tiers"),
        ))
    }

    fn unknown_keys(&self, prefix: &str, table: &toml::Table, allowed: &[&str], what: &str) -> Result<(), Err> {
        for k in table.keys() {
            if !allowed.contains(&k.as_str()) {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                return Err(self.err(
                    &key,
                    format!("unknown field `{k}` {what}"),
                    did_you_mean(k, allowed.iter().copied(), "fields"),
                ));
            }
        }
        Ok(())
    }
}

fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str> + Clone, what: &str) -> String {
    match config::closest(word, candidates.clone()) {
        Some(c) => format!("did you mean `{c}`?"),
        None => {
            let all: Vec<&str> = candidates.into_iter().collect();
            if all.is_empty() {
                "remove it".into()
            } else {
                format!("{what}: {}", all.join(", "))
            }
        }
    }
}

fn ms(d: Duration) -> i64 {
    d.as_millis() as i64
}

/// Reads scenario `text` (from `file`) against the configuration `base`: returns the scenario and
/// the configuration it runs with (its header and `[config]` layered over `base`).
pub fn load(file: &str, text: &str, base: &Config, checks: &[config::SectionCheck]) -> Result<(Scenario, Config), Err> {
    let r = Reader {
        src: config::Source {
            file: file.to_string(),
            text,
        },
    };
    let mut top: toml::Table = toml::from_str(text).map_err(|e| Box::new(r.src.syntax_error(&e)))?;
    r.unknown_keys("", &top, TOP, "in a scenario")?;

    let name = match top.get("name") {
        Some(v) => r.string("name", v)?,
        None => return Err(r.err("", "the scenario has no `name`", "add name = \"…\" at the top")),
    };
    let description = top
        .get("description")
        .map(|v| r.string("description", v))
        .transpose()?
        .unwrap_or_default();
    let duration = match top.get("duration") {
        Some(v) => r.duration("duration", v)?,
        None => {
            return Err(r.err(
                "",
                "the scenario has no `duration`",
                "add duration = \"12h\" (engine time) at the top",
            ));
        }
    };
    if duration.is_zero() {
        return Err(r.err(
            "duration",
            "the duration is zero",
            "give the engine time the scenario runs, e.g. \"12h\"",
        ));
    }

    let mut cfg = match top.remove("config") {
        None => base.clone(),
        Some(toml::Value::Table(t)) => config::overlay(base, t, &r.src, "config", checks)?,
        Some(v) => {
            return Err(r.err(
                "config",
                format!("expected a table, found {}", v.type_str()),
                "write [config] followed by configuration fields, as in config/default.toml",
            ));
        }
    };
    if let Some(v) = top.get("speed") {
        let speed = r.number("speed", v)?;
        if speed <= 0.0 {
            return Err(r.err(
                "speed",
                format!("the clock speed must be above 0, got {speed}"),
                "1 = real time; 3600 = an engine hour per second",
            ));
        }
        cfg.clock.speed = speed;
    }
    if let Some(v) = top.get("seed") {
        cfg.events.embedded.seed = r.count("seed", v)? as u64;
    }
    let tiers: Vec<String> = cfg.tiers.iter().map(|t| t.name.clone()).collect();
    match top.get("capacity") {
        None => {}
        Some(toml::Value::Table(t)) => {
            for (tier, v) in t {
                let key = format!("capacity.{tier}");
                let tier = r.tier(&key, &toml::Value::String(tier.clone()), &tiers)?;
                let bytes = r.size(&key, v)?;
                if let Some(tc) = cfg.tiers.iter_mut().find(|t| t.name == tier) {
                    tc.capacity_gb = bytes as f64 / 1e9;
                }
            }
        }
        Some(v) => {
            return Err(r.err(
                "capacity",
                format!("expected a table, found {}", v.type_str()),
                "e.g. capacity = { aws-hot = \"50MB\" }",
            ));
        }
    }

    let steps = match top.get("step") {
        None => Vec::new(),
        Some(toml::Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, v)| step(&r, i, v, duration, &tiers, &cfg))
            .collect::<Result<Vec<_>, _>>()?,
        Some(v) => {
            return Err(r.err(
                "step",
                format!("expected [[step]] tables, found {}", v.type_str()),
                "write each step as a [[step]] table with `at` and `do`",
            ));
        }
    };
    let mut steps = steps;
    // Steps at the same time fire in file order.
    steps.sort_by_key(|s| s.at_ms);

    let expects = match top.get("expect") {
        None => Vec::new(),
        Some(toml::Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, v)| expectation(&r, i, v, duration, &tiers))
            .collect::<Result<Vec<_>, _>>()?,
        Some(v) => {
            return Err(r.err(
                "expect",
                format!("expected a list, found {}", v.type_str()),
                "expect = [\"migrations.failed == 0\"] or [[expect]] tables with `that` and `at`",
            ));
        }
    };

    let sc = Scenario {
        name,
        description,
        file: file.to_string(),
        duration_ms: ms(duration),
        steps,
        expects,
    };
    Ok((sc, cfg))
}

fn line_of(r: &Reader, key: &str) -> usize {
    r.src.line_of(key).unwrap_or(0)
}

fn step(
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
                did_you_mean("", KINDS.iter().map(|k| k.0), "steps"),
            ));
        }
    };
    let Some((kind, fields, _)) = KINDS.iter().find(|k| k.0 == kind) else {
        return Err(r.err(
            &at_key("do"),
            format!("unknown step `{kind}`"),
            did_you_mean(&kind, KINDS.iter().map(|k| k.0), "steps"),
        ));
    };
    let mut allowed: Vec<&str> = vec!["at", "do"];
    allowed.extend(fields.iter());
    r.unknown_keys(&format!("step[{i}]"), t, &allowed, &format!("for a `{kind}` step"))?;
    let get = |f: &str| t.get(f);
    let need = |f: &str| {
        get(f).ok_or_else(|| {
            r.err(
                &format!("step[{i}]"),
                format!("a `{kind}` step needs `{f}`"),
                format!("add {f} = …"),
            )
        })
    };
    let command = match *kind {
        "rate" => {
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
        "skew" => Command::SetSkew {
            skew: r.number(&at_key("skew"), need("skew")?)?,
        },
        "flash_crowd" => Command::FlashCrowd {
            objects: get("objects")
                .map(|v| r.count(&at_key("objects"), v))
                .transpose()?
                .unwrap_or(1)
                .max(1),
        },
        "put_burst" => Command::PutBurst {
            objects: r.count(&at_key("objects"), need("objects")?)?,
        },
        "grow" => Command::GrowObjects {
            objects: r.count(&at_key("objects"), need("objects")?)?,
            engine_secs: r.duration(&at_key("for"), need("for")?)?.as_secs(),
        },
        "chaos" => {
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
                    let parsed: Option<config::ErrorKind> = toml::Value::String(s.clone()).try_into().ok();
                    match parsed {
                        Some(k) => Some(k),
                        None => {
                            return Err(r.err(
                                &at_key("error_kind"),
                                format!("unknown error kind `{s}`"),
                                did_you_mean(&s, ERROR_KINDS.iter().copied(), "kinds"),
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
        "chaos_clear" => Command::ChaosClear {
            tier: get("tier").map(|v| r.tier(&at_key("tier"), v, tiers)).transpose()?,
        },
        "pause_migrations" => Command::PauseMigrations,
        "resume_migrations" => Command::ResumeMigrations,
        "retry_failed" => Command::RetryFailed,
        "optimize" => Command::OptimizeNow,
        "retrain" => Command::RetrainNow,
        "rescan" => Command::Rescan,
        "capacity" => Command::SetCapacity {
            tier: r.tier(&at_key("tier"), need("tier")?, tiers)?,
            bytes: r.size(&at_key("size"), need("size")?)?,
        },
        other => return Err(r.err(&at_key("do"), format!("unknown step `{other}`"), "")),
    };
    if cfg.events.source == SourceKind::Kafka && command.drives_workload() {
        return Err(r.err(
            &at_key("do"),
            format!("`{kind}` drives the embedded workload generator, but events.source = \"kafka\""),
            "produce the workload into the topic with `dim simulate`, or drop the step",
        ));
    }
    Ok(Step {
        at_ms: ms(at),
        line: line_of(r, &format!("step[{i}]")),
        kind: kind.to_string(),
        command,
    })
}

fn expectation(
    r: &Reader,
    i: usize,
    v: &toml::Value,
    duration: Duration,
    tiers: &[String],
) -> Result<Expectation, Err> {
    let key = format!("expect[{i}]");
    let (text, at, text_key) = match v {
        toml::Value::String(s) => (s.clone(), None, key.clone()),
        toml::Value::Table(t) => {
            r.unknown_keys(&key, t, &["that", "at"], "in an expectation")?;
            let that = match t.get("that") {
                Some(v) => r.string(&format!("{key}.that"), v)?,
                None => {
                    return Err(r.err(
                        &key,
                        "the expectation has no `that`",
                        "add that = \"migrations.failed == 0\"",
                    ));
                }
            };
            let at = match t.get("at") {
                None => None,
                Some(toml::Value::String(s)) if s == "end" => None,
                Some(v) => Some(r.duration(&format!("{key}.at"), v)?),
            };
            (that, at, format!("{key}.that"))
        }
        _ => {
            return Err(r.err(
                &key,
                format!("expected a string or a table, found {}", v.type_str()),
                "e.g. \"migrations.failed == 0\"",
            ));
        }
    };
    let check = Check::parse(&text, tiers).map_err(|(m, h)| r.err(&text_key, m, h))?;
    if let Some(at) = at {
        if at > duration {
            return Err(r.err(
                &format!("{key}.at"),
                format!(
                    "the expectation is at {}, after the scenario ends ({})",
                    humantime::format_duration(at),
                    humantime::format_duration(duration)
                ),
                "move it earlier, or leave `at` out to check at the end",
            ));
        }
        if check.end_only() {
            return Err(r.err(
                &format!("{key}.at"),
                format!("`{text}` is measured at the end only (it lists every tier)"),
                "leave `at` out",
            ));
        }
    }
    Ok(Expectation {
        line: line_of(r, &text_key),
        text,
        at_ms: at.map(ms),
        check,
    })
}
