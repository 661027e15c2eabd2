//! `dim pin KEY [--unpin]`: keep an object on its tier (the planner never moves it), or release it.

use std::path::Path;

use crate::config::Config;
use crate::control::client::{ClientError, Endpoint};
use crate::engine::command::Command;
use crate::engine::store::set_pinned;
use crate::engine::store::{Location, Store, open_reader_at};

/// Pins or releases `key`: through the engine running on `data_dir` when there is one (so its
/// state and the store never disagree), else in the store directly.
pub fn run(cfg: &Config, data_dir: &Path, key: &str, pinned: bool) -> anyhow::Result<()> {
    if let Some(socket) = crate::control::socket_path(cfg, data_dir).filter(|p| p.exists()) {
        let ep = Endpoint::Socket(socket);
        let cmd = Command::Pin {
            key: key.to_string(),
            pinned,
        };
        let answer = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(crate::cmd::ctl::send(&ep, &cmd));
        match answer {
            Ok(a) if (200..300).contains(&a.status) => {
                println!(
                    "{key}: {} (by the running engine)",
                    if pinned { "pinned to its tier" } else { "released" }
                );
                return Ok(());
            }
            Ok(a) => anyhow::bail!("{}", a.json()["error"].as_str().unwrap_or("refused by the engine")),
            // A socket no engine answers on is left by a crash: the store is ours.
            Err(ClientError::Unreachable { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let at = Location::of(&cfg.store, data_dir)?;
    // Refuse a missing store rather than create an empty one.
    open_reader_at(&at)?;
    let store = Store::open_at(&at, cfg.store.cache_mib)?;
    if !set_pinned(&store.writer(), key, pinned)? {
        anyhow::bail!("no object {key:?} in {at} (check the key and --data-dir)");
    }
    println!("{key}: {}", if pinned { "pinned to its tier" } else { "released" });
    Ok(())
}
