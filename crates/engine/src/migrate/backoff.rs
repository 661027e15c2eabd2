//! Exponential backoff with full jitter (backon), and the `Retrying in …` line every retry logs.

use std::future::Future;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use rand::RngExt;

use crate::config::MigratorConfig;
use crate::tiers::OpError;

/// The retry policy of one operation.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub base: Duration,
    pub cap: Duration,
    /// Tries in all, the first included.
    pub max_attempts: u32,
}

impl Policy {
    pub fn from_config(c: &MigratorConfig) -> Self {
        Self {
            base: Duration::from_millis(c.backoff_base_ms),
            cap: Duration::from_millis(c.backoff_cap_ms),
            max_attempts: c.max_attempts.max(1),
        }
    }

    /// The ceiling of the delay before retry `n` (1-based): base · 2^(n-1), capped.
    pub fn ceiling(&self, n: u32) -> Duration {
        let factor = 2u32.saturating_pow(n.saturating_sub(1));
        self.base.saturating_mul(factor).min(self.cap)
    }

    fn builder(&self) -> ExponentialBuilder {
        ExponentialBuilder::default()
            .with_min_delay(self.base)
            .with_max_delay(self.cap)
            .with_factor(2.0)
            .with_max_times(self.max_attempts.saturating_sub(1) as usize)
    }
}

/// Full jitter: a uniform delay between zero and the exponential ceiling, so that many
/// throttled workers do not retry in lockstep.
fn full_jitter(d: Duration) -> Duration {
    d.mul_f64(rand::rng().random::<f64>())
}

/// Runs `op`, retrying retryable errors (429, 503/SlowDown, 5xx, timeouts, resets) with
/// backoff; each retry is logged at WARN. Returns the last error when retries run out or
/// the error is not retryable.
pub async fn retry<T, F, Fut>(
    policy: Policy,
    key: &str,
    tier: &str,
    mut on_retry: impl FnMut(&OpError),
    op: F,
) -> Result<T, OpError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, OpError>>,
{
    let mut attempt = 1u32;
    op.retry(policy.builder())
        .sleep(tokio::time::sleep)
        .when(|e: &OpError| e.kind.retryable())
        .adjust(|_, d| d.map(full_jitter))
        .notify(|e: &OpError, d: Duration| {
            attempt += 1;
            on_retry(e);
            tracing::warn!(
                target: "dim::migrate",
                "Retrying in {:.1}s (attempt {}/{}) key={} tier={} error={}",
                d.as_secs_f64(),
                attempt,
                policy.max_attempts,
                key,
                tier,
                e
            );
        })
        .await
}
