//! Where training runs: its own thread at a lower CPU priority, so ingest and migrations keep
//! their throughput on a small machine while a forest is being fitted.

use std::io;
use std::thread::JoinHandle;

/// Niceness of the training thread (0 = normal, 19 = lowest): the scheduler then gives ingest
/// about ten times the CPU share of training whenever both want the same core.
const TRAINING_NICE: i32 = 10;

/// Runs `f` on a new named thread with lowered priority.
pub fn spawn_named<T: Send + 'static>(name: &str, f: impl FnOnce() -> T + Send + 'static) -> io::Result<JoinHandle<T>> {
    std::thread::Builder::new().name(name.into()).spawn(move || {
        lower_priority();
        f()
    })
}

#[cfg(target_os = "linux")]
fn lower_priority() {
    // On Linux, niceness is per thread: this affects the training thread only.
    // SAFETY: plain syscalls on the calling thread's own id; no memory is shared.
    let r = unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, TRAINING_NICE)
    };
    if r != 0 {
        tracing::debug!(target: "dim::model", error = %io::Error::last_os_error(), "could not lower the training thread's priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}
