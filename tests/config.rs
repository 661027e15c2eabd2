//! Configuration: layering over the embedded default, and every refusal with file, line and what to do.

use std::path::Path;

use data_in_motion::config::{Config, SourceKind, load, load_str};

fn err(text: &str) -> String {
    load_str(Some(Path::new("my.toml")), text).expect_err(text).to_string()
}

#[test]
fn embedded_default_is_valid_and_complete() {
    let c = Config::embedded_default().unwrap();
    let names: Vec<_> = c.tiers.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["aws-hot", "azure-cool", "gcp-archive"]);
    let hot = c.tier("aws-hot").unwrap();
    assert_eq!(
        (hot.storage_gb_month, hot.get_per_1k, hot.put_per_1k, hot.latency_ms),
        (0.023, 0.0004, 0.005, 20.0)
    );
    let cool = c.tier("azure-cool").unwrap();
    assert_eq!(
        (
            cool.storage_gb_month,
            cool.get_per_1k,
            cool.put_per_1k,
            cool.retrieval_gb
        ),
        (0.01, 0.001, 0.01, 0.01)
    );
    let arch = c.tier("gcp-archive").unwrap();
    assert_eq!(
        (
            arch.storage_gb_month,
            arch.get_per_1k,
            arch.put_per_1k,
            arch.retrieval_gb
        ),
        (0.004, 0.01, 0.02, 0.03)
    );
    assert!(c.tiers.iter().all(|t| t.egress_gb == 0.09));
    assert_eq!(c.events.source, SourceKind::Embedded);
}

#[test]
fn user_file_overrides_only_what_it_names() {
    let c = load_str(
        Some(Path::new("x.toml")),
        "[events.embedded]\nrate = 5.0\n\n[clock]\nspeed = 1.0\n",
    )
    .unwrap();
    assert_eq!(c.events.embedded.rate, 5.0);
    assert_eq!(c.clock.speed, 1.0);
    assert_eq!(c.events.embedded.skew, 1.1, "untouched fields keep the default");
    assert_eq!(c.tiers.len(), 3, "tiers not named keep the default");
}

#[test]
fn tiers_array_replaces_the_default_as_a_whole() {
    let c = load_str(
        None,
        "[[tiers]]\nname = \"nas\"\nbackend = \"local\"\nstorage_gb_month = 0.002\nlatency_ms = 5\ncapacity_gb = 100\n",
    )
    .unwrap();
    assert_eq!(c.tiers.len(), 1);
    assert_eq!(c.tiers[0].name, "nas");
    assert_eq!(c.landing_tier().name, "nas");
}

#[test]
fn syntax_error_has_line_and_column() {
    let e = err("[store]\ncache_mib = = 3\n");
    assert!(e.starts_with("my.toml:2:"), "{e}");
}

#[test]
fn unknown_key_is_refused_at_its_line() {
    let e = err("[store]\ncache_mib = 8\nbogus = 1\n");
    assert!(e.starts_with("my.toml:3:1:"), "{e}");
    assert!(e.contains("unknown field `bogus`"), "{e}");
    assert!(e.contains("help:"), "{e}");
}

#[test]
fn unknown_section_is_refused() {
    let e = err("[stroe]\nfile = \"x.db\"\n");
    assert!(e.starts_with("my.toml:1:"), "{e}");
    assert!(e.contains("stroe"), "{e}");
}

#[test]
fn wrong_type_is_refused_at_its_line() {
    let e = err("\n[events.embedded]\nrate = \"fast\"\n");
    // At the value a reader fixes, not the start of the line.
    assert!(e.starts_with("my.toml:3:8:"), "{e}");
    assert!(e.contains("events.embedded.rate"), "{e}");
}

#[test]
fn bad_enum_value_lists_the_choices() {
    let e = err("[events]\nsource = \"kafak\"\n");
    assert!(e.starts_with("my.toml:2:"), "{e}");
    assert!(e.contains("embedded") && e.contains("kafka"), "{e}");
}

const TIER: &str =
    "[[tiers]]\nname = \"hot\"\nbackend = \"local\"\nstorage_gb_month = 0.02\nlatency_ms = 20\ncapacity_gb = 10\n";

#[test]
fn negative_price_is_refused() {
    let text = format!(
        "{TIER}\n[[tiers]]\nname = \"cold\"\nbackend = \"local\"\nstorage_gb_month = -0.01\nlatency_ms = 90\ncapacity_gb = 10\n"
    );
    let e = err(&text);
    assert!(e.starts_with("my.toml:11:"), "{e}");
    assert!(
        e.contains("tiers[1].storage_gb_month") && e.contains("0 or more"),
        "{e}"
    );
}

#[test]
fn zero_capacity_is_refused() {
    let e = err(&TIER.replace("capacity_gb = 10", "capacity_gb = 0"));
    assert!(e.starts_with("my.toml:6:"), "{e}");
    assert!(e.contains("capacity_gb") && e.contains("greater than 0"), "{e}");
}

#[test]
fn duplicate_tier_names_are_refused() {
    let e = err(&format!("{TIER}\n{TIER}"));
    assert!(e.starts_with("my.toml:9:"), "{e}");
    assert!(e.contains("used twice"), "{e}");
}

#[test]
fn sla_below_every_tier_is_refused() {
    let e = err("[sla]\nhot_latency_ms = 5\n");
    assert!(e.starts_with("my.toml:2:"), "{e}");
    assert!(e.contains("below every tier's latency") && e.contains("aws-hot"), "{e}");
    assert!(e.contains("raise sla.hot_latency_ms to at least 20"), "{e}");
}

#[test]
fn missing_required_tier_fields_are_named_at_once_at_the_tier() {
    let e = err("[[tiers]]\nname = \"hot\"\nbackend = \"local\"\n");
    assert!(e.starts_with("my.toml:1:"), "{e}");
    assert!(e.contains("this tier lacks storage_gb_month, latency_ms"), "{e}");
    assert!(
        e.contains("[[tiers]]") && e.contains("class = "),
        "an example tier: {e}"
    );
    // Capacity may be left out: a tier without a limit.
    let c = load_str(
        None,
        "[[tiers]]\nname = \"hot\"\nbackend = \"local\"\nstorage_gb_month = 0.02\nlatency_ms = 20\n",
    )
    .unwrap();
    assert_eq!(c.tiers[0].capacity_bytes(), None);
}

#[test]
fn unknown_landing_tier_lists_the_tiers() {
    let e = err("[events.embedded]\nlanding_tier = \"aws-hto\"\n");
    assert!(e.starts_with("my.toml:2:"), "{e}");
    assert!(e.contains("aws-hot, azure-cool, gcp-archive"), "{e}");
}

#[test]
fn s3_tier_without_bucket_is_refused() {
    let e = err(&TIER.replace("backend = \"local\"", "backend = \"s3\""));
    assert!(e.contains("needs a bucket"), "{e}");
}

#[test]
fn out_of_range_fraction_is_refused() {
    let e = err("[events.embedded]\nput_fraction = 1.5\n");
    assert!(e.starts_with("my.toml:2:") && e.contains("between 0 and 1"), "{e}");
}

#[test]
fn unreadable_file_says_so() {
    let e = load(Some(Path::new("/nonexistent/dim.toml"))).unwrap_err().to_string();
    assert!(e.contains("/nonexistent/dim.toml") && e.contains("cannot read"), "{e}");
}

#[test]
fn replay_rules_must_name_rising_days_and_a_share() {
    let e = err("[replay]\ntime_scale = 1.0\nlifecycle_days = [90, 30]\n");
    assert!(e.starts_with("my.toml:3:"), "{e}");
    assert!(e.contains("replay.lifecycle_days") && e.contains("rising"), "{e}");
    let e = err("[replay]\nlru_share = 1.5\n");
    assert!(e.starts_with("my.toml:2:") && e.contains("replay.lru_share"), "{e}");
    let e = err("[replay]\ntime_scale = 0\n");
    assert!(e.contains("replay.time_scale") && e.contains("720"), "{e}");
}

#[test]
fn a_catalog_class_fills_a_tier_and_what_the_tier_sets_wins() {
    let c = load_str(
        Some(Path::new("my.toml")),
        "[[tiers]]\nname = \"std\"\nclass = \"aws:s3-standard\"\nbackend = \"local\"\ncapacity_gb = 1\n\n\
         [[tiers]]\nname = \"ia\"\nclass = \"aws:s3-standard-ia\"\nbackend = \"local\"\ncapacity_gb = 1\nstorage_gb_month = 0.011\n",
    )
    .unwrap();
    let ia = c.tier("ia").unwrap();
    assert_eq!(ia.storage_gb_month, 0.011, "the tier's own price wins");
    assert_eq!((ia.min_storage_days, ia.min_billable_bytes), (30.0, 131_072));
    assert_eq!((ia.provider.as_str(), ia.transition_per_1k), ("aws", Some(0.01)));
    assert_eq!(c.tier("std").unwrap().latency_ms, 20.0);
}

#[test]
fn an_unknown_class_is_refused_at_its_line_with_the_closest_name() {
    let e = err("[[tiers]]\nname = \"a\"\nbackend = \"local\"\ncapacity_gb = 1\nclass = \"aws:s3-standard-iaa\"\n");
    assert!(e.starts_with("my.toml:5:"), "{e}");
    assert!(e.contains("no storage class named \"aws:s3-standard-iaa\""), "{e}");
    assert!(e.contains("did you mean \"aws:s3-standard-ia\"?"), "{e}");
    assert!(e.contains("dim catalog"), "{e}");
}

#[test]
fn new_tier_fields_are_validated_at_their_line() {
    let base =
        "[[tiers]]\nname = \"a\"\nbackend = \"local\"\ncapacity_gb = 1\nstorage_gb_month = 0.01\nlatency_ms = 5\n";
    let e = err(&format!("{base}min_storage_days = -3\n"));
    assert!(
        e.starts_with("my.toml:7:") && e.contains("min_storage_days") && e.contains("0 or more"),
        "{e}"
    );
    let e = err(&format!("{base}restore_gb = -0.1\n"));
    assert!(
        e.starts_with("my.toml:7:") && e.contains("price must be 0 or more"),
        "{e}"
    );
    let e = err("[optimizer]\nmove_margin = -1\n");
    assert!(e.starts_with("my.toml:2:") && e.contains("move_margin"), "{e}");
    let e = err("[replay]\ntail_days = -1\n");
    assert!(e.starts_with("my.toml:2:") && e.contains("tail_days"), "{e}");
}

#[test]
fn the_shipped_storage_class_config_is_valid_and_is_what_its_scenario_runs() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/aws-classes.toml");
    let c = data_in_motion::config::load(Some(&path)).unwrap();
    let classes: Vec<_> = c.tiers.iter().map(|t| t.class.clone().unwrap_or_default()).collect();
    assert_eq!(
        classes,
        [
            "aws:s3-standard",
            "aws:s3-standard-ia",
            "aws:s3-glacier-instant-retrieval",
            "aws:s3-glacier-deep-archive"
        ]
    );
    assert!(c.tiers.iter().all(|t| t.provider == "aws"));
    assert!(c.tier("s3-deep-archive").unwrap().restore_hours > 0.0);
    // The storage-classes scenario carries the same tiers in its [config] (so it runs by name).
    let text = include_str!("../scenarios/storage-classes.toml");
    let scenario: toml::Table = toml::from_str(text).unwrap();
    let file: toml::Table = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        scenario["config"]["tiers"], file["tiers"],
        "scenario and config/aws-classes.toml differ"
    );
}

/// An S3 tier named `name` in bucket `data`, with `extra` lines.
fn s3(name: &str, extra: &str) -> String {
    format!(
        "[[tiers]]\nname = \"{name}\"\nbackend = \"s3\"\nbucket = \"data\"\nstorage_gb_month = 0.02\nlatency_ms = 20\ncapacity_gb = 10\n{extra}"
    )
}

#[test]
fn tiers_of_one_bucket_need_their_own_classes() {
    let same = format!("{}\n{}", s3("a", ""), s3("b", ""));
    let e = err(&same);
    assert!(
        e.contains("tiers[1].storage_class") && e.contains("same storage class STANDARD"),
        "{e}"
    );
    assert!(e.contains("its own storage_class"), "{e}");
    // One class each: accepted, and a catalog class names the S3 class.
    let ok = format!(
        "{}\n{}",
        s3("a", ""),
        s3("b", "class = \"aws:s3-glacier-deep-archive\"\n")
    );
    let cfg = load_str(Some(Path::new("my.toml")), &ok).unwrap();
    assert_eq!(cfg.tiers[1].storage_class.as_deref(), Some("DEEP_ARCHIVE"));
    assert!(
        cfg.tiers[1].restore_hours > 0.0,
        "an archive class restores before reads"
    );
}

#[test]
fn bad_restore_and_encryption_settings_are_refused() {
    let e = err(&s3("a", "restore = { tier = \"Fast\", days = 1 }\n"));
    assert!(e.contains("Expedited, Standard or Bulk"), "{e}");
    let e = err(&s3("a", "sse_kms_key_id = \"k\"\n"));
    assert!(
        e.contains("tiers[0].sse_kms_key_id") && e.contains("add sse = \"aws:kms\""),
        "{e}"
    );
    let e = err(&s3("a", "sse = \"rot13\"\n"));
    assert!(
        e.contains("unknown variant `rot13`, expected `AES256` or `aws:kms`"),
        "{e}"
    );
}
