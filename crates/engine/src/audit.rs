//! Integrity audit: does every object the store places actually exist on its tier? (`objects.lost`)

use std::collections::HashSet;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::store::{Store, StoreError};
use super::tiers::{ErrorKind, Tiers};

/// Keys named in the report, at most.
const NAMED: usize = 20;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Audit {
    /// Placed objects checked.
    pub checked: u64,
    /// Objects whose tier does not hold them (after a re-check).
    pub lost: u64,
    /// The first few lost keys, with the tier the store names.
    pub lost_keys: Vec<(String, String)>,
    /// Tiers that could not be listed (their objects were not checked).
    pub unlisted: Vec<String>,
}

/// Lists every tier (bypassing chaos: the audit is about data, not about injected faults) and
/// compares with the store's pointers. A pointer whose object is missing is looked at again
/// after `recheck`: a live workload may have deleted the object and not yet committed the
/// DELETE, or a move may have switched it; only a pointer still naming a tier that says
/// "not found" counts as lost.
pub(crate) async fn audit(store: &Store, tiers: &Tiers, recheck: Duration) -> Result<Audit, StoreError> {
    let mut out = Audit::default();
    let mut listed: HashSet<(String, String)> = HashSet::new();
    let mut names: Vec<&String> = tiers.keys().collect();
    names.sort();
    for name in names {
        match tiers[name].inner().list("").await {
            Ok(list) => listed.extend(list.into_iter().map(|(k, _)| (name.clone(), k))),
            Err(e) => {
                tracing::warn!(target: "dim::audit", tier = %name, error = %e, "cannot list the tier; its objects are not audited");
                out.unlisted.push(name.clone());
            }
        }
    }
    let placed = crate::store::objects::placed_keys(&*store.reader()?)?;
    let mut suspects = Vec::new();
    for (key, tier) in placed {
        if out.unlisted.contains(&tier) {
            continue;
        }
        out.checked += 1;
        if !listed.contains(&(tier.clone(), key.clone())) {
            suspects.push(key);
        }
    }
    if suspects.is_empty() {
        return Ok(out);
    }
    tokio::time::sleep(recheck).await;
    for key in suspects {
        let tier: Option<String> = {
            let conn = store.reader()?;
            crate::store::tier_of(&conn, &key)?
        };
        let Some(tier) = tier else { continue };
        let Some(t) = tiers.get(&tier) else { continue };
        let missing = match t.inner().head(&key).await {
            Ok(found) => found.is_none(),
            Err(e) => e.kind == ErrorKind::NotFound,
        };
        if missing {
            out.lost += 1;
            if out.lost_keys.len() < NAMED {
                out.lost_keys.push((key, tier));
            }
        }
    }
    if out.lost > 0 {
        tracing::error!(target: "dim::audit", lost = out.lost, first = ?out.lost_keys.first(), "objects the store places are missing from their tier");
    }
    Ok(out)
}
