//! `dim seed`: creates demo objects (realistic sizes, random content) on a tier and registers them (the seed's setup.sh).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use tokio::task::JoinSet;

use crate::config::Config;
use crate::engine::clock::wall_now_ms;
use crate::engine::events::embedded::object_bytes;
use crate::engine::events::generator::{GenObject, Workload};
use crate::engine::ingest::{Item, ObjectRecord, apply_items};
use crate::engine::migrate::backoff::{Policy, retry};
use crate::engine::store::{Location, Store};
use crate::engine::tiers::chaos::ChaosStore;
use crate::engine::tiers::{Attributes, Listing, ObjectStore, OpError, Tiers};

/// What a seeded object carries besides its bytes, derived from its key (so a check after any
/// number of moves knows what it must still carry): a Content-Type and who wrote it.
pub fn seed_attributes(key: &str) -> Attributes {
    let content_type = match key.rsplit('.').next() {
        Some("jpg") => "image/jpeg",
        Some("pdf") => "application/pdf",
        Some("mp4") => "video/mp4",
        Some("gz") => "application/gzip",
        _ => "application/octet-stream",
    };
    let mut a = Attributes {
        content_type: Some(content_type.into()),
        cache_control: Some("private, max-age=86400".into()),
        ..Attributes::default()
    };
    a.user.insert("seeded-by".into(), "dim seed".into());
    a
}

/// Writes in flight at once.
const CONCURRENCY: usize = 8;
/// Registrations per store transaction.
const REGISTER_EVERY: usize = 500;

pub fn run(
    cfg: &Config,
    data_dir: &Path,
    objects: usize,
    total_bytes: Option<u64>,
    tier: Option<&str>,
) -> anyhow::Result<()> {
    let tier_name = match tier {
        Some(t) => cfg.tier_named(t)?.name.clone(),
        None => cfg.landing_tier().name.clone(),
    };
    let rt = tokio::runtime::Runtime::new().context("starting the runtime")?;
    rt.block_on(seed(cfg, data_dir, objects, total_bytes, &tier_name))
}

async fn seed(
    cfg: &Config,
    data_dir: &Path,
    n: usize,
    total_bytes: Option<u64>,
    tier_name: &str,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let tiers = crate::tiers::build(cfg, data_dir)?;
    let tier = tiers
        .get(tier_name)
        .cloned()
        .with_context(|| format!("tier {tier_name} is not configured"))?;
    // New keys continue after what every tier holds, so seeding twice adds objects — on the
    // same tier or another — instead of writing the same keys again.
    let existing = listed_everywhere(cfg, &tiers, tier_name).await?;
    let mut params = cfg.events.embedded.clone();
    params.max_objects = existing.len() + n;
    let mut w = Workload::new(&params);
    w.adopt(
        existing
            .iter()
            .map(|(key, m)| GenObject::listed(key.clone(), m))
            .collect(),
    );
    let total = total_bytes.unwrap_or(params.seed_total_bytes);
    let objs = w.seed_objects(n, total, wall_now_ms());
    let bytes: u64 = objs.iter().map(|o| o.size).sum();
    eprintln!(
        "seeding {} objects ({}) on {tier_name}{}",
        objs.len(),
        bytesize::ByteSize(bytes),
        if existing.is_empty() {
            String::new()
        } else {
            format!(" beside the {} already on the tiers", existing.len())
        }
    );
    let store = Arc::new(Store::open_at(
        &Location::of(&cfg.store, data_dir)?,
        cfg.store.cache_mib,
    )?);
    let started = Instant::now();
    let mut set = JoinSet::new();
    let mut batch: Vec<Item> = Vec::new();
    let (mut done, mut failed) = (0usize, 0usize);
    let mut iter = objs.into_iter();
    let policy = Policy::from_config(&cfg.migrator);
    loop {
        while set.len() < CONCURRENCY {
            let Some(o) = iter.next() else { break };
            let t = tier.clone();
            let name = tier_name.to_string();
            set.spawn(async move { write_one(o, t, name, policy).await });
        }
        let Some(r) = set.join_next().await else { break };
        match r.context("a seeding write panicked")? {
            Ok(rec) => {
                batch.push(Item::Register(rec));
                done += 1;
            }
            Err((key, e)) => {
                failed += 1;
                eprintln!("  {key}: {e}");
                if failed >= 10 && done == 0 {
                    anyhow::bail!("every write fails on {tier_name}; stopping (last: {e})");
                }
            }
        }
        if batch.len() >= REGISTER_EVERY {
            register(&store, std::mem::take(&mut batch)).await?;
            eprintln!("  {done} written");
        }
    }
    register(&store, batch).await?;
    say_seeded(done, failed, bytes, tier_name, started.elapsed().as_secs_f64())
}

async fn register(store: &Arc<Store>, items: Vec<Item>) -> anyhow::Result<()> {
    apply_items(store, "seed", items, wall_now_ms())
        .await
        .context("registering objects")?;
    Ok(())
}

/// What every tier holds (tier `tier_name` first): a second seed numbers its keys after these.
/// A tier other than `tier_name` that cannot be listed is warned about, not fatal.
async fn listed_everywhere(cfg: &Config, tiers: &Tiers, tier_name: &str) -> anyhow::Result<Listing> {
    let mut existing = tiers
        .get(tier_name)
        .with_context(|| format!("tier {tier_name} is not configured"))?
        .list("")
        .await
        .with_context(|| format!("listing tier {tier_name} (is it reachable, and are its credentials set?)"))?;
    let mut seen: std::collections::HashSet<String> = existing.iter().map(|(k, _)| k.clone()).collect();
    for other in cfg.tiers.iter().filter(|t| t.name != tier_name) {
        let Some(t) = tiers.get(&other.name) else { continue };
        match t.list("").await {
            Ok(listed) => existing.extend(listed.into_iter().filter(|(k, _)| seen.insert(k.clone()))),
            Err(e) => eprintln!(
                "warning: cannot list tier {} ({e}); new keys may repeat keys it holds",
                other.name
            ),
        }
    }
    Ok(existing)
}

/// Writes one seed object to `t` (tier `name`), retrying throttling and 5xx as the migrator
/// does (a busy S3 endpoint answers 503 SlowDown to a burst of PUTs); its record, or its key and
/// the error.
async fn write_one(
    o: GenObject,
    t: Arc<ChaosStore>,
    name: String,
    policy: Policy,
) -> Result<ObjectRecord, (String, OpError)> {
    let attrs = seed_attributes(&o.key);
    let r = retry(
        policy,
        &o.key,
        &name,
        |_| {},
        || {
            let body = object_bytes(&o.key, o.size);
            t.put(&o.key, Box::new(std::io::Cursor::new(body)), o.size, &attrs)
        },
    )
    .await;
    r.map(|w| ObjectRecord {
        key: o.key.clone(),
        tier: name,
        size: o.size,
        etag: Some(w.etag),
        last_modified: wall_now_ms(),
        created: o.created_ms,
    })
    .map_err(|e| (o.key, e))
}

/// The closing line of a seed; an error when some objects could not be written.
fn say_seeded(done: usize, failed: usize, bytes: u64, tier_name: &str, secs: f64) -> anyhow::Result<()> {
    println!(
        "seeded {done} objects ({}) on {tier_name} in {secs:.1} s{}",
        bytesize::ByteSize(bytes),
        if failed > 0 {
            format!(", {failed} failed")
        } else {
            String::new()
        }
    );
    if failed > 0 {
        anyhow::bail!("{failed} objects could not be written");
    }
    Ok(())
}
