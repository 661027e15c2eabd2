//! `dim ls`: the store's objects, sorted and cut to a page, for people or as JSON — the keys
//! `dim explain` and `dim pin` take.

use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use crate::config::Config;
use crate::engine::clock::{Millis, wall_now_ms};
use crate::engine::model::Model;
use crate::engine::model::features::StatsRow;
use crate::engine::placement::billing::storage_month;
use crate::engine::store::listing::each_object;
use crate::engine::store::summary::HotObject;
use crate::engine::store::{Location, engine_time, open_reader_at};
use crate::format::{hours, human_bytes, money};

/// What `dim ls --sort` orders by, largest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SortBy {
    /// The serving model's chance the object is read soon (also spelt as its column, `p_hot`).
    #[value(alias = "p_hot")]
    PHot,
    Size,
    /// Time since the object was first seen (oldest first).
    Age,
    /// What its bytes cost a month on the tier it is on.
    Cost,
}

/// One object as `dim ls` shows it: the object as the heat pane has it (p_hot filled in), when it
/// was first seen, and what its storage costs.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    #[serde(flatten)]
    pub object: HotObject,
    pub first_seen_ms: Option<Millis>,
    /// Storage on its tier, $ a month, as billed (minimum billable size, overhead, fees).
    pub cost_month: f64,
}

/// How many rows are scored by the model at once.
const SCORE_BATCH: usize = 4096;

pub fn run(
    cfg: &Config,
    data_dir: &Path,
    tier: Option<&str>,
    sort: SortBy,
    limit: usize,
    as_json: bool,
) -> anyhow::Result<()> {
    let conn = open_reader_at(&Location::of(&cfg.store, data_dir)?)?;
    let now = engine_time(&conn)?.unwrap_or_else(wall_now_ms);
    let model = Model::load(&conn, &cfg.model)
        .context("reading the serving model")?
        .unwrap_or_else(|| Model::heuristic(&cfg.model, "not trained yet"));
    if let Some(t) = tier {
        cfg.tier_named(t)?;
    }
    let mut page = Page::new(sort, limit, now);
    let mut batch: Vec<(HotObject, StatsRow)> = Vec::with_capacity(SCORE_BATCH);
    let score = |batch: &mut Vec<(HotObject, StatsRow)>, page: &mut Page| {
        let rows: Vec<&StatsRow> = batch.iter().map(|(_, s)| s).collect();
        let p = model.p_hot(&rows, now);
        for ((o, s), p_hot) in batch.drain(..).zip(p) {
            page.offer(listed(cfg, o, &s, p_hot));
        }
    };
    each_object(&conn, tier, now, |o, s| {
        batch.push((o, s));
        if batch.len() == SCORE_BATCH {
            score(&mut batch, &mut page);
        }
    })
    .context("listing the store's objects")?;
    score(&mut batch, &mut page);
    let (shown, total) = page.finish();
    if as_json {
        println!("{}", serde_json::to_string_pretty(&shown)?);
    } else {
        print!("{}", table(&shown, now));
    }
    if shown.len() < total {
        eprintln!("{} of {total} objects shown; --limit N shows N (0: all)", shown.len());
    }
    Ok(())
}

fn listed(cfg: &Config, mut object: HotObject, s: &StatsRow, p_hot: f64) -> Listed {
    object.p_hot = p_hot;
    Listed {
        cost_month: object
            .tier
            .as_deref()
            .and_then(|t| cfg.tier(t))
            .map_or(0.0, |t| storage_month(t, object.size)),
        first_seen_ms: s.first_seen,
        object,
    }
}

/// The best `limit` objects seen so far by one order; memory stays about twice the page.
struct Page {
    sort: SortBy,
    limit: usize,
    now: Millis,
    rows: Vec<Listed>,
    seen: usize,
}

impl Page {
    fn new(sort: SortBy, limit: usize, now: Millis) -> Page {
        Page {
            sort,
            limit,
            now,
            rows: Vec::new(),
            seen: 0,
        }
    }

    fn key(&self, l: &Listed) -> f64 {
        match self.sort {
            SortBy::PHot => l.object.p_hot,
            SortBy::Size => l.object.size as f64,
            SortBy::Age => l.first_seen_ms.map_or(0.0, |f| (self.now - f) as f64),
            SortBy::Cost => l.cost_month,
        }
    }

    fn offer(&mut self, l: Listed) {
        self.seen += 1;
        self.rows.push(l);
        if self.limit > 0 && self.rows.len() >= 2 * self.limit.max(512) {
            self.cut();
        }
    }

    /// Sorted by the order, largest first, ties by key; cut to the page.
    fn cut(&mut self) {
        let mut rows = std::mem::take(&mut self.rows);
        rows.sort_by(|a, b| {
            self.key(b)
                .total_cmp(&self.key(a))
                .then_with(|| a.object.key.cmp(&b.object.key))
        });
        if self.limit > 0 {
            rows.truncate(self.limit);
        }
        self.rows = rows;
    }

    /// The page and how many objects there were in all.
    fn finish(mut self) -> (Vec<Listed>, usize) {
        self.cut();
        (self.rows, self.seen)
    }
}

/// The page as aligned columns, the key last so it can be copied whole.
fn table(rows: &[Listed], now: Millis) -> String {
    let ago = |t: Option<Millis>| {
        t.map_or_else(
            || "never".to_string(),
            |t| format!("{} ago", hours((now - t).max(0) as f64 / 3.6e6)),
        )
    };
    let mut out = format!(
        "{:<12} {:>10} {:>6} {:>11} {:>8} {:<12} {:>10}  {}\n",
        "TIER", "SIZE", "P_HOT", "ACCESSED", "AGE", "PLANNED", "$/MONTH", "KEY"
    );
    for Listed {
        object: r,
        first_seen_ms,
        cost_month,
    } in rows
    {
        out.push_str(&format!(
            "{:<12} {:>10} {:>6.3} {:>11} {:>8} {:<12} {:>10}  {}{}\n",
            r.tier.as_deref().unwrap_or("-"),
            human_bytes(r.size),
            r.p_hot,
            ago(r.last_access),
            first_seen_ms.map_or_else(|| "-".to_string(), |f| hours((now - f).max(0) as f64 / 3.6e6)),
            r.planned_tier
                .as_deref()
                .map_or_else(|| "-".to_string(), |t| format!("→ {t}")),
            money(*cost_month),
            r.key,
            if r.pinned { "  (pinned)" } else { "" },
        ));
    }
    out
}
