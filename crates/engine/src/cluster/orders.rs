//! What an operator tells the whole cluster through any node: migrations paused, faults injected
//! on a tier. Kept in the store; every node applies it at its next heartbeat (a node joining
//! later too), so `p` or `dim ctl chaos` on one node acts on all of them.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::migrate::Migrator;
use crate::store::{Connection, StoreError, cluster as rows};
use crate::tiers::Tiers;
use crate::tiers::chaos::ChaosSettings;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Orders {
    pub migrations_paused: bool,
    /// Faults injected per tier; a tier not named has none.
    pub chaos: BTreeMap<String, ChaosSettings>,
}

impl Orders {
    /// The orders in the store (none given yet: `None`).
    pub fn read(conn: &Connection) -> Result<Option<Orders>, StoreError> {
        Ok(rows::orders(conn)?.and_then(|s| serde_json::from_str(&s).ok()))
    }

    /// Changes the cluster's orders with `f`.
    pub fn update(conn: &Connection, f: impl FnOnce(&mut Orders)) -> Result<(), StoreError> {
        let mut o = Self::read(conn)?.unwrap_or_default();
        f(&mut o);
        rows::set_orders(conn, &serde_json::to_string(&o).unwrap_or_default())
    }
}

/// How a node carries orders out: on its migrator and its tiers.
pub type Apply = Box<dyn Fn(&Orders) + Send + Sync>;

pub fn applier(migrator: &Arc<Migrator>, tiers: &Tiers) -> Apply {
    let (migrator, tiers) = (migrator.clone(), tiers.clone());
    Box::new(move |o: &Orders| {
        migrator.set_paused(o.migrations_paused);
        for (name, t) in &tiers {
            t.set(o.chaos.get(name).cloned().unwrap_or_default());
        }
        tracing::info!(target: "dim::cluster", paused = o.migrations_paused, chaos_tiers = o.chaos.len(), "the cluster's orders applied");
    })
}
