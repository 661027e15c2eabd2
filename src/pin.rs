//! `dim pin KEY [--unpin]`: keep an object on its tier (the planner never moves it), or release it.

use std::path::Path;

use crate::config::Config;
use crate::engine::store::set_pinned;
use crate::engine::store::{Store, open_reader};

/// Pins or releases `key` in the store under `data_dir` (SQLite's locking makes this safe beside a
/// running engine; the next planning cycle sees it).
pub fn run(cfg: &Config, data_dir: &Path, key: &str, pinned: bool) -> anyhow::Result<()> {
    let path = data_dir.join(&cfg.store.file);
    // Refuse a missing store rather than create an empty one.
    open_reader(&path)?;
    let store = Store::open(&path, cfg.store.cache_mib)?;
    if !set_pinned(&store.writer(), key, pinned)? {
        anyhow::bail!("no object {key:?} in {} (check the key and --data-dir)", path.display());
    }
    println!("{key}: {}", if pinned { "pinned to its tier" } else { "released" });
    Ok(())
}
