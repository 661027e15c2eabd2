//! Engine time: real, accelerated (demo/scenarios) or manual (tests); all engine timing goes through here.

use crate::sync;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, in engine time.
pub type Millis = i64;

pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Current engine time.
    fn now_ms(&self) -> Millis;
    /// Engine seconds per wall-clock second.
    fn speed(&self) -> f64;
    /// How long to wait in wall-clock time for `engine` to pass in engine time.
    fn wall(&self, engine: Duration) -> Duration {
        engine.div_f64(self.speed())
    }
}

pub fn wall_now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

/// Engine time runs `speed` times faster than the wall clock from `start_ms`.
#[derive(Debug)]
pub struct ScaledClock {
    origin: Instant,
    start_ms: Millis,
    speed: f64,
}

impl ScaledClock {
    /// A clock at wall speed (`speed` = 1) or accelerated, starting at `start_ms`.
    pub fn new(start_ms: Millis, speed: f64) -> Self {
        Self {
            origin: Instant::now(),
            start_ms,
            speed,
        }
    }

    /// The real clock: engine time is wall time.
    pub fn real() -> Self {
        Self::new(wall_now_ms(), 1.0)
    }
}

impl Clock for ScaledClock {
    fn now_ms(&self) -> Millis {
        let elapsed = self.origin.elapsed().as_secs_f64() * self.speed;
        self.start_ms + (elapsed * 1000.0) as Millis
    }
    fn speed(&self) -> f64 {
        self.speed
    }
}

/// A clock that moves only when told to: deterministic tests and replays.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<Millis>,
    speed: f64,
}

impl ManualClock {
    pub fn new(start_ms: Millis) -> Self {
        Self {
            now: Mutex::new(start_ms),
            speed: 1.0,
        }
    }
    pub fn set(&self, ms: Millis) {
        *sync::lock(&self.now) = ms;
    }
    pub fn advance(&self, d: Duration) {
        let mut now = sync::lock(&self.now);
        *now += d.as_millis() as Millis;
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> Millis {
        *sync::lock(&self.now)
    }
    fn speed(&self) -> f64 {
        self.speed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_clock_runs_faster() {
        let c = ScaledClock::new(0, 3600.0);
        std::thread::sleep(Duration::from_millis(20));
        // 20 ms of wall time is at least 72 engine seconds.
        assert!(c.now_ms() >= 72_000);
        assert_eq!(c.wall(Duration::from_secs(3600)), Duration::from_secs(1));
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(1_000);
        assert_eq!(c.now_ms(), 1_000);
        c.advance(Duration::from_secs(2));
        assert_eq!(c.now_ms(), 3_000);
        c.set(10);
        assert_eq!(c.now_ms(), 10);
    }
}
