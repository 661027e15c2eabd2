//! `dim bench`: picks the benchmark, applies its options to the configuration, runs it.

use crate::bench;
use crate::cli::{self, BenchTarget};
use crate::config::{Backend, Config};

/// Runs the benchmark `target` names on `cfg`.
pub fn run(mut cfg: Config, target: BenchTarget) -> anyhow::Result<()> {
    match target {
        BenchTarget::Optimize {
            objects,
            no_bound,
            json,
        } => bench::optimize::run(&cfg, objects, !no_bound, json),
        BenchTarget::Model {
            samples,
            objects,
            events,
            json,
        } => bench::model::run(&cfg, samples, objects, events, json),
        BenchTarget::Replay {
            events,
            objects,
            days,
            ignore_capacity,
            sla_miss_cost,
            object_store_share,
            json,
        } => {
            replay_options(&mut cfg, sla_miss_cost, object_store_share)?;
            bench::replay::run(&cfg, events, objects, days, ignore_capacity, json)
        }
        BenchTarget::Scale { objects, events, json } => bench::scale::run(&cfg, objects, events, json),
        BenchTarget::Tui {
            objects,
            attached,
            json,
        } => bench::tui::run(&cfg, objects, attached, json),
        BenchTarget::Ingest {
            source,
            brokers,
            events,
            objects,
            nodes,
            json,
        } => {
            if source == cli::IngestSource::Kafka {
                let brokers = brokers.unwrap_or_else(|| cfg.events.brokers.clone());
                bench::kafka::run(&cfg, &brokers, events, nodes.as_deref(), json)
            } else if nodes.is_some() {
                anyhow::bail!("--nodes needs --source kafka: the nodes divide a topic's partitions")
            } else {
                bench::ingest::run(&cfg, events, objects, json)
            }
        }
        BenchTarget::Migrate {
            objects,
            size,
            endpoint,
            region,
            src,
            dst,
            compare_rclone,
            json,
        } => {
            let default = if endpoint.is_some() {
                Backend::S3
            } else {
                Backend::Local
            };
            let kind = |k: Option<cli::TierKind>| k.map_or(default, Backend::from);
            let opts = bench::migrate::Options {
                objects,
                size,
                src: kind(src),
                dst: kind(dst),
                endpoint,
                region,
                compare_rclone,
            };
            bench::migrate::run(&cfg, opts, json)
        }
    }
}

/// `dim bench replay`'s price of a slow read and share of object-store traffic, checked.
fn replay_options(cfg: &mut Config, sla_miss_cost: Option<f64>, object_store_share: Option<f64>) -> anyhow::Result<()> {
    if let Some(c) = sla_miss_cost {
        cfg.sla.miss_cost = c;
    }
    if let Some(s) = object_store_share {
        if !(0.0..=1.0).contains(&s) {
            anyhow::bail!("--object-store-share must be a share from 0 to 1 (e.g. 0.5), got {s}");
        }
        cfg.events.embedded.object_store_share = s;
    }
    Ok(())
}
