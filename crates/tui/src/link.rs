//! What the dashboard drives: an engine in this process, or a running one attached over its
//! control API. Either way it is a stream of snapshots plus a command sink; the panes, keys and
//! overlays never know which.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hyper::http::Method;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use crate::control::client::{ClientError, Endpoint};
use crate::engine::EngineHandle;
use crate::engine::Snapshot;
use crate::engine::{Answer, Command, Refusal};

/// How long an attached dashboard waits before trying a lost engine again.
const RECONNECT_EVERY: Duration = Duration::from_secs(1);

pub(crate) enum Link<'a> {
    Local(&'a EngineHandle),
    Remote(Remote),
}

/// A running engine reached through its control API.
pub(crate) struct Remote {
    endpoint: Endpoint,
    snapshots: watch::Receiver<Arc<Snapshot>>,
    connected: Arc<AtomicBool>,
    follow: JoinHandle<()>,
}

impl Remote {
    /// Follows the engine's snapshot stream in the background, reconnecting whenever it is lost.
    pub(crate) fn connect(rt: &tokio::runtime::Runtime, endpoint: Endpoint) -> Remote {
        let (tx, rx) = watch::channel(Arc::new(Snapshot::default()));
        let connected = Arc::new(AtomicBool::new(false));
        let (ep, up) = (endpoint.clone(), connected.clone());
        let follow = rt.spawn(async move {
            loop {
                let result = ep
                    .follow("/v1/snapshots", |line| {
                        match serde_json::from_slice::<Snapshot>(line) {
                            Ok(s) => {
                                up.store(true, Ordering::Relaxed);
                                tx.send_replace(Arc::new(s));
                            }
                            Err(e) => tracing::warn!(target: "dim::attach", error = %e, "a snapshot the dashboard cannot read"),
                        }
                        true
                    })
                    .await;
                up.store(false, Ordering::Relaxed);
                if let Err(e) = result {
                    tracing::debug!(target: "dim::attach", error = %e, "engine not reachable");
                }
                tokio::time::sleep(RECONNECT_EVERY).await;
            }
        });
        Remote {
            endpoint,
            snapshots: rx,
            connected,
            follow,
        }
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        self.follow.abort();
    }
}

/// The engine's answer to a command sent over the API: the refusal it names, or why none came.
async fn post(ep: Endpoint, cmd: Command) -> Answer {
    let body = serde_json::to_vec(&cmd).unwrap_or_default();
    match ep.call(Method::POST, "/v1/commands", body).await {
        Ok(a) if (200..300).contains(&a.status) => Ok(()),
        Ok(a) => {
            let j = a.json();
            Err(
                serde_json::from_value(j["refusal"].clone()).unwrap_or_else(|_| Refusal::Unreachable {
                    message: j["error"]
                        .as_str()
                        .unwrap_or("the engine refused the request")
                        .to_string(),
                }),
            )
        }
        Err(e @ ClientError::Unreachable { .. })
        | Err(e @ ClientError::Protocol { .. })
        | Err(e @ ClientError::BadUrl(_)) => Err(Refusal::Unreachable { message: e.to_string() }),
    }
}

impl Link<'_> {
    pub(crate) fn snapshots(&self) -> watch::Receiver<Arc<Snapshot>> {
        match self {
            Link::Local(e) => e.snapshots(),
            Link::Remote(r) => r.snapshots.clone(),
        }
    }

    /// Sends a command without waiting; the answer arrives on the receiver.
    pub(crate) fn submit(
        &self,
        rt: &tokio::runtime::Runtime,
        cmd: Command,
    ) -> Result<oneshot::Receiver<Answer>, Refusal> {
        match self {
            Link::Local(e) => e.commands().submit(cmd),
            Link::Remote(r) => {
                cmd.check()?;
                let (tx, rx) = oneshot::channel();
                let ep = r.endpoint.clone();
                rt.spawn(async move {
                    let _ = tx.send(post(ep, cmd).await);
                });
                Ok(rx)
            }
        }
    }

    /// A local engine whose threads ended on their own (an error).
    pub(crate) fn is_failed(&self) -> bool {
        match self {
            Link::Local(e) => e.is_failed(),
            Link::Remote(_) => false,
        }
    }

    /// What an attached dashboard shows in its header: where it is attached, and whether the
    /// engine answers now.
    pub(crate) fn attached(&self) -> Option<(String, bool)> {
        match self {
            Link::Local(_) => None,
            Link::Remote(r) => Some((r.endpoint.to_string(), r.connected.load(Ordering::Relaxed))),
        }
    }
}
