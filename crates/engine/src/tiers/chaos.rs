//! Chaos decorator for any tier: added latency, injected errors, outages and a bandwidth cap, changeable at run time.

use crate::sync;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use rand::RngExt;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::time::{Instant, Sleep};

use super::{Attributes, CopySource, ErrorKind, Listing, ObjectMeta, ObjectStore, OpError, Reader, Version, Written};
use crate::config;

/// What is being injected on a tier right now.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChaosSettings {
    /// Added to every operation, ms.
    pub latency_ms: u64,
    /// Uniform jitter around the latency, ms.
    pub jitter_ms: u64,
    /// Share of operations that fail, percent.
    pub error_rate: f64,
    pub error_kind: Option<config::InjectedError>,
    /// Every operation fails as if the endpoint refused connections.
    pub outage: bool,
    /// Transfer cap for bodies, bytes per second.
    pub bandwidth_bps: Option<u64>,
}

impl ChaosSettings {
    pub fn is_active(&self) -> bool {
        self.latency_ms > 0 || self.error_rate > 0.0 || self.outage || self.bandwidth_bps.is_some()
    }
}

/// "latency 500 ms, 30 % slow_down, OUTAGE" — or "off".
impl std::fmt::Display for ChaosSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if self.latency_ms > 0 {
            parts.push(if self.jitter_ms > 0 {
                format!("latency {}±{} ms", self.latency_ms, self.jitter_ms)
            } else {
                format!("latency {} ms", self.latency_ms)
            });
        }
        if self.error_rate > 0.0 {
            let kind = self.error_kind.map_or("errors", |k| k.as_str());
            parts.push(format!("{} % {kind}", self.error_rate));
        }
        if self.outage {
            parts.push("OUTAGE".into());
        }
        if let Some(bps) = self.bandwidth_bps {
            parts.push(format!("{}/s cap", crate::format::human_bytes(bps)));
        }
        if parts.is_empty() {
            f.write_str("off")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

/// What the tier has seen through the decorator (for the snapshot and metrics).
#[derive(Debug, Default)]
pub struct TierStats {
    pub ops: AtomicU64,
    pub errors: AtomicU64,
    pub injected: AtomicU64,
    /// Exponentially weighted moving average of operation latency, microseconds.
    pub latency_ewma_us: AtomicU64,
}

#[derive(Debug)]
pub struct ChaosStore {
    inner: Arc<dyn ObjectStore>,
    settings: RwLock<ChaosSettings>,
    pub stats: TierStats,
    last_error: Mutex<Option<String>>,
}

/// An injected error, built the way a real server's is classified: HTTP status and code, or an I/O kind.
pub fn injected(kind: config::InjectedError, tier: &str, op: &'static str, key: &str) -> OpError {
    let (k, msg) = match kind {
        config::InjectedError::SlowDown => (
            ErrorKind::from_http(503, Some("SlowDown")),
            "503 SlowDown: Please reduce your request rate",
        ),
        config::InjectedError::Throttled => (ErrorKind::from_http(429, None), "429 Too Many Requests"),
        config::InjectedError::Internal => (ErrorKind::from_http(500, Some("InternalError")), "500 InternalError"),
        config::InjectedError::Timeout => (ErrorKind::from_io(std::io::ErrorKind::TimedOut), "operation timed out"),
        config::InjectedError::Reset => (
            ErrorKind::from_io(std::io::ErrorKind::ConnectionReset),
            "connection reset by peer",
        ),
    };
    OpError::new(k, tier, op, key, format!("{msg} (chaos)"))
}

impl ChaosStore {
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        Self {
            inner,
            settings: RwLock::new(ChaosSettings::default()),
            stats: TierStats::default(),
            last_error: Mutex::new(None),
        }
    }

    pub fn inner(&self) -> &Arc<dyn ObjectStore> {
        &self.inner
    }

    pub fn settings(&self) -> ChaosSettings {
        sync::read(&self.settings).clone()
    }

    pub fn set(&self, s: ChaosSettings) {
        *sync::write(&self.settings) = s;
    }

    pub fn last_error(&self) -> Option<String> {
        sync::lock(&self.last_error).clone()
    }

    /// Latency and injected failures before an operation.
    async fn before(&self, op: &'static str, key: &str) -> Result<ChaosSettings, OpError> {
        let s = self.settings();
        if s.outage {
            return Err(self.record(OpError::new(
                ErrorKind::from_io(std::io::ErrorKind::ConnectionRefused),
                self.tier(),
                op,
                key,
                "connection refused (chaos outage)",
            )));
        }
        if s.latency_ms > 0 || s.jitter_ms > 0 {
            let jitter = if s.jitter_ms > 0 {
                rand::rng().random_range(0..=2 * s.jitter_ms) as i64 - s.jitter_ms as i64
            } else {
                0
            };
            let ms = (s.latency_ms as i64 + jitter).max(0) as u64;
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        if s.error_rate > 0.0 && rand::rng().random::<f64>() * 100.0 < s.error_rate {
            self.stats.injected.fetch_add(1, Ordering::Relaxed);
            let kind = s.error_kind.unwrap_or(config::InjectedError::SlowDown);
            return Err(self.record(injected(kind, self.tier(), op, key)));
        }
        Ok(s)
    }

    fn record(&self, e: OpError) -> OpError {
        self.stats.errors.fetch_add(1, Ordering::Relaxed);
        *sync::lock(&self.last_error) = Some(e.to_string());
        e
    }

    async fn timed<T>(
        &self,
        op: &'static str,
        key: &str,
        f: impl Future<Output = Result<T, OpError>>,
    ) -> Result<T, OpError> {
        let started = Instant::now();
        self.stats.ops.fetch_add(1, Ordering::Relaxed);
        let r = match self.before(op, key).await {
            Ok(_) => f.await.map_err(|e| self.record(e)),
            Err(e) => Err(e),
        };
        let us = started.elapsed().as_micros() as u64;
        let old = self.stats.latency_ewma_us.load(Ordering::Relaxed);
        let new = if old == 0 { us } else { (old * 7 + us) / 8 };
        self.stats.latency_ewma_us.store(new, Ordering::Relaxed);
        r
    }

    fn throttle(&self, r: Reader, s: &ChaosSettings) -> Reader {
        match s.bandwidth_bps {
            Some(bps) if bps > 0 => Box::new(Throttled {
                inner: r,
                bps,
                start: Instant::now(),
                bytes: 0,
                sleep: None,
            }),
            _ => r,
        }
    }
}

#[async_trait]
impl ObjectStore for ChaosStore {
    fn tier(&self) -> &str {
        self.inner.tier()
    }

    fn copy_source(&self) -> Option<CopySource> {
        self.inner.copy_source()
    }

    fn needs_restore(&self) -> Option<Duration> {
        self.inner.needs_restore()
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, OpError> {
        self.timed("head", key, self.inner.head(key)).await
    }

    async fn describe(&self, key: &str) -> Result<Option<(ObjectMeta, Attributes)>, OpError> {
        self.timed("head", key, self.inner.describe(key)).await
    }

    async fn attributes(&self, key: &str, version: Option<&str>) -> Result<Attributes, OpError> {
        self.timed("head", key, self.inner.attributes(key, version)).await
    }

    async fn get(&self, key: &str, from: Option<Version<'_>>) -> Result<(ObjectMeta, Reader), OpError> {
        let s = self.settings();
        let (m, r) = self.timed("get", key, self.inner.get(key, from)).await?;
        Ok((m, self.throttle(r, &s)))
    }

    async fn put(&self, key: &str, body: Reader, size: u64, attrs: &Attributes) -> Result<Written, OpError> {
        let s = self.settings();
        let body = self.throttle(body, &s);
        self.timed("put", key, self.inner.put(key, body, size, attrs)).await
    }

    async fn copy_from(
        &self,
        src: &CopySource,
        key: &str,
        from: Version<'_>,
        size: u64,
        attrs: &Attributes,
    ) -> Result<Written, OpError> {
        self.timed("copy", key, self.inner.copy_from(src, key, from, size, attrs))
            .await
    }

    async fn restore(&self, key: &str, version: Option<&str>) -> Result<(), OpError> {
        self.timed("restore", key, self.inner.restore(key, version)).await
    }

    async fn difference(&self, key: &str, expected: &Written) -> Result<Option<&'static str>, OpError> {
        self.timed("verify", key, self.inner.difference(key, expected)).await
    }

    async fn delete(&self, key: &str, version: Option<&str>) -> Result<(), OpError> {
        self.timed("delete", key, self.inner.delete(key, version)).await
    }

    /// A batch meets chaos as one request: injected, the whole batch fails.
    async fn delete_many(&self, items: &[(String, Option<String>)]) -> Vec<Result<(), OpError>> {
        let first = items.first().map_or("", |(k, _)| k.as_str());
        match self
            .timed("delete", first, async { Ok(self.inner.delete_many(items).await) })
            .await
        {
            Ok(each) => each.into_iter().map(|r| r.map_err(|e| self.record(e))).collect(),
            Err(e) => items.iter().map(|_| Err(e.clone())).collect(),
        }
    }

    async fn list_pages(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        on_page: &mut (dyn FnMut(Listing) + Send),
    ) -> Result<(), OpError> {
        self.timed("list", prefix, self.inner.list_pages(prefix, start_after, on_page))
            .await
    }
}

/// Caps a body's throughput by sleeping whenever it runs ahead of `bps`.
struct Throttled {
    inner: Reader,
    bps: u64,
    start: Instant,
    bytes: u64,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl AsyncRead for Throttled {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        if let Some(s) = self.sleep.as_mut() {
            match s.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(()) => self.sleep = None,
            }
        }
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = res {
            self.bytes += (buf.filled().len() - before) as u64;
            let due = self.start + Duration::from_secs_f64(self.bytes as f64 / self.bps as f64);
            if due > Instant::now() {
                self.sleep = Some(Box::pin(tokio::time::sleep_until(due)));
            }
        }
        res
    }
}
