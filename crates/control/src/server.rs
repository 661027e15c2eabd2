//! The control API's server: the routes, the bearer token on TCP, and the owner-only Unix socket.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::token::Token;
use crate::config::Config;
use crate::engine::EngineHandle;
use crate::engine::Snapshot;
use crate::engine::TaskState;
use crate::engine::store::tasks as task;
use crate::engine::store::{Connection, Store, StoreError, ingest};
use crate::engine::{Command, Commands, Refusal};
use crate::engine::{ExplainError, explain};

/// How long a command's answer waits for a snapshot that shows it.
const SHOWN_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

/// What the handlers read and where commands go.
#[derive(Clone)]
struct Api {
    snapshots: watch::Receiver<Arc<Snapshot>>,
    commands: Commands,
    store: Arc<Store>,
    cfg: Arc<Config>,
}

/// A JSON error answer: what is wrong and what to do.
fn error(status: StatusCode, message: impl std::fmt::Display, help: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": message.to_string(), "help": help })),
    )
        .into_response()
}

fn store_error(e: impl std::fmt::Display) -> Response {
    error(StatusCode::INTERNAL_SERVER_ERROR, e, "see the engine's log")
}

/// Runs a read on a store connection off the runtime and answers its result as JSON.
async fn read<T: serde::Serialize + Send + 'static>(
    store: Arc<Store>,
    f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
) -> Response {
    match store.read(f).await {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => store_error(e),
    }
}

async fn snapshot(State(api): State<Api>) -> Response {
    let s = api.snapshots.borrow().clone();
    axum::Json(&*s).into_response()
}

/// Newline-delimited JSON: the current snapshot, then each new one as the engine publishes it
/// (never faster than its cadence); ends when the engine stops.
async fn snapshots(State(api): State<Api>) -> Response {
    let mut rx = api.snapshots.clone();
    rx.mark_changed();
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.changed().await.ok()?;
        let s = rx.borrow_and_update().clone();
        let mut line = serde_json::to_vec(&*s).unwrap_or_default();
        line.push(b'\n');
        Some((Ok::<Bytes, std::convert::Infallible>(Bytes::from(line)), rx))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(Body::from_stream(stream))
        .unwrap_or_else(store_error)
}

async fn health(State(api): State<Api>) -> Response {
    let s = api.snapshots.borrow().clone();
    axum::Json(json!({
        "live": true,
        "ready": s.source.is_up(),
        "source": { "kind": s.source.kind, "state": s.source.state, "detail": s.source.detail },
        "engine_time_ms": s.now_ms,
    }))
    .into_response()
}

#[derive(Deserialize)]
struct TasksQuery {
    state: Option<String>,
    limit: Option<usize>,
}

async fn tasks(State(api): State<Api>, Query(q): Query<TasksQuery>) -> Response {
    let state = match q.state.as_deref() {
        None => None,
        Some(s) => match TaskState::parse(s) {
            Some(st) => Some(st),
            None => {
                let all: Vec<&str> = TaskState::ALL.iter().map(|s| s.as_str()).collect();
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("unknown task state {s:?}"),
                    &format!("states: {}", all.join(", ")),
                );
            }
        },
    };
    let limit = q.limit.unwrap_or(100).min(10_000);
    read(api.store.clone(), move |conn| task::newest(conn, state, limit)).await
}

#[derive(Deserialize)]
struct LimitQuery {
    limit: Option<usize>,
}

async fn rejected(State(api): State<Api>, Query(q): Query<LimitQuery>) -> Response {
    let limit = q.limit.unwrap_or(100).min(10_000);
    read(api.store.clone(), move |conn| ingest::newest_rejected(conn, limit)).await
}

#[derive(Deserialize)]
struct ExplainQuery {
    key: Option<String>,
}

async fn explain_object(State(api): State<Api>, Query(q): Query<ExplainQuery>) -> Response {
    let Some(key) = q.key else {
        return error(StatusCode::BAD_REQUEST, "which object?", "GET /v1/explain?key=KEY");
    };
    let (store, cfg) = (api.store.clone(), api.cfg.clone());
    let answer = tokio::task::spawn_blocking(move || {
        let conn = store.reader()?;
        explain(&conn, &cfg, &key)
    })
    .await;
    match answer {
        Ok(Ok(x)) => axum::Json(x).into_response(),
        Ok(Err(ExplainError::Unknown(key))) => error(
            StatusCode::NOT_FOUND,
            format!("no object {key:?}"),
            "keys are as the store knows them: GET /v1/snapshot lists the hottest",
        ),
        Ok(Err(e)) => store_error(e),
        Err(e) => store_error(e),
    }
}

/// A command as JSON (`{"command": "pause_migrations"}`): 200 when carried out, 409 with the
/// reason when refused, 400 when it is not a command.
async fn command(State(api): State<Api>, body: Bytes) -> Response {
    let cmd: Command = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("not a command: {e}"),
                "send JSON such as {\"command\": \"pause_migrations\"} or {\"command\": \"migrate_now\", \"key\": \"…\", \"tier\": \"…\"} (README: Control API)",
            );
        }
    };
    match api.commands.send(cmd).await {
        Ok(()) => {
            // Answered once a snapshot shows the command: a status read next sees what it did.
            let applied = api.commands.applied();
            let mut snaps = api.snapshots.clone();
            let _ = tokio::time::timeout(SHOWN_WITHIN, snaps.wait_for(|s| s.commands_applied >= applied)).await;
            axum::Json(json!({ "accepted": true })).into_response()
        }
        Err(why @ (Refusal::Busy | Refusal::Stopped)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({ "accepted": false, "error": why.to_string(), "refusal": why })),
        )
            .into_response(),
        Err(why) => (
            StatusCode::CONFLICT,
            axum::Json(json!({ "accepted": false, "error": why.to_string(), "refusal": why })),
        )
            .into_response(),
    }
}

async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "no such endpoint",
        "GET /v1/snapshot, /v1/snapshots, /v1/health, /v1/tasks?state=S, /v1/rejected, /v1/explain?key=K; POST /v1/commands",
    )
}

fn routes(api: Api) -> Router {
    Router::new()
        .route("/v1/snapshot", get(snapshot))
        .route("/v1/snapshots", get(snapshots))
        .route("/v1/health", get(health))
        .route("/v1/tasks", get(tasks))
        .route("/v1/rejected", get(rejected))
        .route("/v1/explain", get(explain_object))
        .route("/v1/commands", post(command))
        .fallback(not_found)
        .with_state(api)
}

/// TCP clients must send `Authorization: Bearer TOKEN`; compared in constant time.
async fn require_token(State(token): State<Arc<Token>>, req: Request, next: Next) -> Response {
    let sent = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match sent {
        Some(s) if token.matches(s) => next.run(req).await,
        Some(_) => error(
            StatusCode::UNAUTHORIZED,
            "wrong bearer token",
            "send the token control.token_file or control.token_env holds",
        ),
        None => error(
            StatusCode::UNAUTHORIZED,
            "a bearer token is required on TCP",
            "send Authorization: Bearer TOKEN (dim ctl --url reads it from --token-file or DIM_CONTROL_TOKEN)",
        ),
    }
}

/// The running API; dropping it stops serving and removes the socket.
pub struct ControlServer {
    pub socket: Option<PathBuf>,
    pub tcp: Option<std::net::SocketAddr>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        if let Some(p) = &self.socket {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Where the socket of the engine on `data_dir` is (or would be); `None` when it is off.
pub fn socket_path(cfg: &Config, data_dir: &Path) -> Option<PathBuf> {
    (!cfg.control.socket.is_empty()).then(|| data_dir.join(&cfg.control.socket))
}

/// Refuses a data directory whose socket answers: it belongs to a running engine.
fn refuse_if_running(path: &Path) -> anyhow::Result<()> {
    if path.exists() && std::os::unix::net::UnixStream::connect(path).is_ok() {
        anyhow::bail!(
            "another dim is running on this data directory (its control socket {} answers); stop it, or drive it with `dim ctl`",
            path.display()
        );
    }
    Ok(())
}

/// Binds the socket owner-only: bound under a temporary name, made 0600, then renamed into
/// place, so no other user can connect in between. A socket left by a crashed engine is
/// replaced (the caller has refused one that answers).
fn bind_socket(path: &Path) -> anyhow::Result<std::os::unix::net::UnixListener> {
    use std::os::unix::fs::PermissionsExt;
    if path.exists() {
        std::fs::remove_file(path).with_context(|| format!("removing the stale socket {}", path.display()))?;
    }
    let tmp = path.with_extension(format!("{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let listener = std::os::unix::net::UnixListener::bind(&tmp)
        .with_context(|| format!("binding the control socket {}", tmp.display()))?;
    listener
        .set_nonblocking(true)
        .context("making the control socket non-blocking")?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("making {} owner-only", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("moving the control socket to {}", path.display()))?;
    Ok(listener)
}

/// The TCP listener of `control.listen` and the token it requires.
fn bind_tcp(cfg: &Config) -> anyhow::Result<(std::net::TcpListener, Token)> {
    let token = Token::load(&cfg.control)?;
    let listener = std::net::TcpListener::bind(&cfg.control.listen)
        .with_context(|| format!("binding the control API to {} (control.listen)", cfg.control.listen))?;
    listener
        .set_nonblocking(true)
        .context("making the control listener non-blocking")?;
    Ok((listener, token))
}

/// The control API's listeners, bound before the engine starts: a second engine on the same
/// data directory is refused before it touches the store, and once the socket is there the
/// TCP address answers too (connections wait in the backlog until the engine serves them).
pub struct Claim {
    socket: Option<(PathBuf, std::os::unix::net::UnixListener)>,
    tcp: Option<(std::net::TcpListener, Token)>,
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Some((p, _)) = &self.socket {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Binds the listeners of the engine about to start on `data_dir`: TCP first (when
/// `control.listen` is set), then the socket (when `control.socket` is set), so a script that
/// waits for the socket finds both.
pub fn claim(cfg: &Config, data_dir: &Path) -> anyhow::Result<Claim> {
    let path = socket_path(cfg, data_dir);
    if let Some(path) = &path {
        refuse_if_running(path)?;
    }
    let tcp = if cfg.control.listen.is_empty() {
        None
    } else {
        Some(bind_tcp(cfg)?)
    };
    let socket = match path {
        Some(path) => {
            std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
            let listener = bind_socket(&path)?;
            Some((path, listener))
        }
        None => None,
    };
    Ok(Claim { socket, tcp })
}

/// Serves the API for `engine`: on the claimed socket, and on TCP when `control.listen` is set.
pub async fn start(mut claim: Claim, cfg: &Config, engine: &EngineHandle) -> anyhow::Result<ControlServer> {
    let api = Api {
        snapshots: engine.snapshots(),
        commands: engine.commands().clone(),
        store: engine.store().clone(),
        cfg: Arc::new(cfg.clone()),
    };
    let mut server = ControlServer {
        socket: None,
        tcp: None,
        tasks: Vec::new(),
    };
    if let Some((path, listener)) = claim.socket.take() {
        let listener = tokio::net::UnixListener::from_std(listener).context("serving the control socket")?;
        server.socket = Some(path.clone());
        let app = routes(api.clone());
        server.tasks.push(tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(target: "dim::control", error = %e, "the control socket stopped");
            }
        }));
        tracing::info!(target: "dim::control", socket = %path.display(), "control API on the socket (dim ctl, dim attach)");
    }
    if let Some((listener, token)) = claim.tcp.take() {
        let token = Arc::new(token);
        let listener = tokio::net::TcpListener::from_std(listener).context("serving the control API on TCP")?;
        let addr = listener.local_addr().context("reading the control address")?;
        server.tcp = Some(addr);
        let app = routes(api).layer(middleware::from_fn_with_state(token, require_token));
        server.tasks.push(tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(target: "dim::control", error = %e, "the control API on TCP stopped");
            }
        }));
        tracing::info!(target: "dim::control", addr = %addr, "control API on http://{addr}/v1 (bearer token required)");
    }
    Ok(server)
}
