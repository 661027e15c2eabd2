//! The inventory scan in the store: each listed page is registered in one transaction with the
//! scan's place (tier and last key), so a restart resumes where the scan stopped, and objects
//! listed on two tiers are found in the store rather than in a map of every key listed.

use super::ingest::{ObjectRecord, discovered_set};
use super::{Connection, StoreError};
use crate::clock::Millis;

/// Where a scan is: what `register_page` advances and a restart resumes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanCursor {
    pub id: i64,
    pub started_ms: Millis,
    /// The tier being listed; `None` before the first page.
    pub tier: Option<String>,
    /// The last key registered on `tier`: listing resumes after it.
    pub after: Option<String>,
    pub listed: u64,
    pub bytes: u64,
}

/// How a scan ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanEnd {
    Done,
    Failed,
}

const SCANNING: &str = "scanning";

/// A listed object: placed as any discovery, and marked with the scan and every tier that listed
/// it in this scan.
const PAGE_SQL: &str = concat!(
    "INSERT INTO objects(key, tier, size, etag, last_modified, created, first_seen, scan_id, scan_tiers)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?2)
     ON CONFLICT(key) DO UPDATE SET
         scan_tiers = CASE
             WHEN objects.scan_id IS DISTINCT FROM excluded.scan_id OR objects.scan_tiers IS NULL
                 THEN excluded.tier
             WHEN instr(',' || objects.scan_tiers || ',', ',' || excluded.tier || ',') > 0 THEN objects.scan_tiers
             ELSE objects.scan_tiers || ',' || excluded.tier END,
         scan_id = excluded.scan_id, ",
    discovered_set!(),
    " RETURNING scan_tiers"
);

/// The scan a restart should carry on with: the newest one still scanning.
pub fn unfinished(conn: &Connection) -> Result<Option<ScanCursor>, StoreError> {
    conn.row(
        "SELECT id, started_ms, tier, after, listed, bytes FROM inventory_scans
         WHERE state = ?1 ORDER BY id DESC LIMIT 1",
        &[&SCANNING],
        |r| {
            Ok(ScanCursor {
                id: r.get(0)?,
                started_ms: r.get(1)?,
                tier: r.get(2)?,
                after: r.get(3)?,
                listed: r.get::<i64>(4)?.max(0) as u64,
                bytes: r.get::<i64>(5)?.max(0) as u64,
            })
        },
    )
}

/// Starts a new scan at `started_ms`; an unfinished one is given up (a rescan lists everything).
pub fn begin(conn: &mut Connection, started_ms: Millis) -> Result<ScanCursor, StoreError> {
    let tx = conn.begin()?;
    tx.exec(
        "UPDATE inventory_scans SET state = 'abandoned', finished_ms = ?2 WHERE state = ?1",
        &[&SCANNING, &started_ms],
    )?;
    let id: i64 = tx
        .row(
            "INSERT INTO inventory_scans(started_ms, state) VALUES (?1, ?2) RETURNING id",
            &[&started_ms, &SCANNING],
            |r| r.get(0),
        )?
        .ok_or(StoreError::NoRow("inventory_scans"))?;
    tx.commit()?;
    Ok(ScanCursor {
        id,
        started_ms,
        tier: None,
        after: None,
        listed: 0,
        bytes: 0,
    })
}

/// Registers one listed page of `tier` and moves `cur` past it, in one transaction: a page is
/// either registered and passed, or neither. Returns the keys this page made duplicates (listed
/// on a second tier in this scan).
pub fn register_page(
    conn: &mut Connection,
    cur: &mut ScanCursor,
    tier: &str,
    page: &[ObjectRecord],
) -> Result<Vec<String>, StoreError> {
    let tx = conn.begin()?;
    let mut duplicates = Vec::new();
    let mut bytes = 0u64;
    for o in page {
        bytes += o.size;
        let tiers: Option<String> = tx.row(
            PAGE_SQL,
            &[
                &o.key,
                &o.tier,
                &(o.size as i64),
                &o.etag,
                &o.last_modified,
                &o.created,
                &cur.id,
            ],
            |r| r.get(0),
        )?;
        // Counted when it becomes a duplicate, not again on a third tier.
        if tiers.is_some_and(|t| t.matches(',').count() == 1) {
            duplicates.push(o.key.clone());
        }
    }
    // Listings come in key order; an empty page (every object filtered out) keeps the place.
    let after = match page.iter().map(|o| o.key.as_str()).max() {
        Some(k) => Some(k.to_string()),
        None if cur.tier.as_deref() == Some(tier) => cur.after.clone(),
        None => None,
    };
    tx.exec(
        "UPDATE inventory_scans SET tier = ?2, after = ?3, listed = listed + ?4, bytes = bytes + ?5 WHERE id = ?1",
        &[&cur.id, &tier, &after, &(page.len() as i64), &(bytes as i64)],
    )?;
    tx.commit()?;
    cur.tier = Some(tier.to_string());
    cur.after = after;
    cur.listed += page.len() as u64;
    cur.bytes += bytes;
    Ok(duplicates)
}

/// Marks the scan finished at `now_ms`.
pub fn finish(conn: &Connection, id: i64, end: ScanEnd, now_ms: Millis) -> Result<(), StoreError> {
    let state = match end {
        ScanEnd::Done => "done",
        ScanEnd::Failed => "failed",
    };
    conn.exec(
        "UPDATE inventory_scans SET state = ?2, finished_ms = ?3 WHERE id = ?1",
        &[&id, &state, &now_ms],
    )?;
    Ok(())
}

/// Every object scan `id` listed on more than one tier, with those tiers in listing order, by key.
pub fn duplicates(conn: &Connection, id: i64) -> Result<Vec<(String, Vec<String>)>, StoreError> {
    conn.rows(
        "SELECT key, scan_tiers FROM objects WHERE scan_id = ?1 AND instr(scan_tiers, ',') > 0 ORDER BY key",
        &[&id],
        |r| {
            let tiers: String = r.get(1)?;
            Ok((r.get(0)?, tiers.split(',').map(str::to_string).collect()))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use crate::store::testing::on_both_backends;

    fn rec(key: &str, tier: &str, size: u64) -> ObjectRecord {
        crate::store::testing::record(key, tier, size, 1)
    }

    on_both_backends!(
        a_page_and_the_scans_place_land_together_and_a_restart_resumes_there,
        a_rescan_gives_up_the_unfinished_scan
    );

    fn a_page_and_the_scans_place_land_together_and_a_restart_resumes_there(store: &Store) {
        let mut w = store.writer();
        assert_eq!(unfinished(&w).unwrap(), None);
        let mut cur = begin(&mut w, 100).unwrap();
        let dups = register_page(&mut w, &mut cur, "fast", &[rec("a", "fast", 10), rec("b", "fast", 20)]).unwrap();
        assert!(dups.is_empty());
        let dups = register_page(&mut w, &mut cur, "slow", &[rec("b", "slow", 20), rec("c", "slow", 5)]).unwrap();
        assert_eq!(dups, vec!["b".to_string()]);
        // What a restart finds is exactly where the scan got to.
        assert_eq!(unfinished(&w).unwrap(), Some(cur.clone()));
        assert_eq!(cur.tier.as_deref(), Some("slow"));
        assert_eq!(cur.after.as_deref(), Some("c"));
        assert_eq!((cur.listed, cur.bytes), (4, 55));
        // The first tier to list an object places it.
        assert_eq!(crate::store::tier_of(&w, "b").unwrap().as_deref(), Some("fast"));
        assert_eq!(
            duplicates(&w, cur.id).unwrap(),
            vec![("b".to_string(), vec!["fast".to_string(), "slow".to_string()])]
        );
        finish(&w, cur.id, ScanEnd::Done, 200).unwrap();
        assert_eq!(unfinished(&w).unwrap(), None);

        // The next scan starts clean: listing b on one tier is no duplicate any more.
        let mut next = begin(&mut w, 300).unwrap();
        register_page(&mut w, &mut next, "slow", &[rec("b", "slow", 20)]).unwrap();
        assert!(duplicates(&w, next.id).unwrap().is_empty());
    }

    fn a_rescan_gives_up_the_unfinished_scan(store: &Store) {
        let mut w = store.writer();
        let mut first = begin(&mut w, 1).unwrap();
        register_page(&mut w, &mut first, "fast", &[rec("a", "fast", 1)]).unwrap();
        let second = begin(&mut w, 2).unwrap();
        assert_eq!(unfinished(&w).unwrap(), Some(second));
    }
}
