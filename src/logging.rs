//! Log setup for each mode: stdout (human or JSON) for the daemon; for the TUI the log pane and a
//! file, never the terminal.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::cli::LogFormat;

fn filter() -> EnvFilter {
    // rskafka logs every connection (INFO) and every internal retry (WARN, several a second
    // during an outage); dim logs the source state and its reconnects itself.
    let f = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,rskafka=error"));
    without_request_dumps(f)
}

/// The S3 SDK dumps whole requests and responses at TRACE — every header, so KMS key ids,
/// user metadata and session tokens: where a filter lets TRACE through, those targets are held
/// at DEBUG (a filter that stops below TRACE is left as it is).
pub fn without_request_dumps(f: EnvFilter) -> EnvFilter {
    if f.max_level_hint() != Some(tracing_subscriber::filter::LevelFilter::TRACE) {
        return f;
    }
    [
        "aws_sigv4=debug",
        "aws_smithy_runtime=debug",
        "aws_smithy_runtime_api=debug",
        "aws_sdk_s3=debug",
    ]
    .into_iter()
    .filter_map(|d| d.parse().ok())
    .fold(f, EnvFilter::add_directive)
}

/// Set once stdout's reader went away (`dim --daemon | head`): nothing more is written (no
/// "Unable to write" for every line after), and `stdout_closed` wakes the daemon to stop.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
static STDOUT_CLOSED_NOTICE: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Ends once stdout's reader has gone away (at once if it already has).
pub async fn stdout_closed() {
    // A permit stored by `notify_one` before anyone waited is taken here.
    STDOUT_CLOSED_NOTICE.notified().await;
}

/// Stdout for logs: a closed pipe is noted once and the rest is dropped.
struct LogStdout;

impl Write for LogStdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if STDOUT_CLOSED.load(Ordering::Relaxed) {
            return Ok(buf.len());
        }
        match std::io::stdout().write(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                if !STDOUT_CLOSED.swap(true, Ordering::Relaxed) {
                    STDOUT_CLOSED_NOTICE.notify_one();
                }
                Ok(buf.len())
            }
            r => r,
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match std::io::stdout().flush() {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            r => r,
        }
    }
}

/// Daemon and one-shot commands: logs to stdout, `RUST_LOG` filters.
pub fn to_stdout(format: LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_writer(|| LogStdout)
        .with_env_filter(filter())
        .with_ansi(std::io::stdout().is_terminal());
    let _ = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).try_init(),
    };
}

/// One-shot commands whose stdout is their output: logs go to stderr.
pub fn to_stderr() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(without_request_dumps(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        ))
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

/// The TUI owns the terminal: logs go to the log pane (tui-logger) and to `DIR/dim.log`.
pub fn to_tui(data_dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    to_tui_file(&data_dir.join("dim.log"))
}

/// The dashboard's logging with its file at `path` (`dim attach` keeps its own beside the
/// engine's data).
pub fn to_tui_file(path: &Path) -> anyhow::Result<()> {
    let path = path.to_path_buf();
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("opening the log file {}", path.display()))?;
    let file_layer = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file));
    let _ = tracing_subscriber::registry()
        .with(filter())
        .with(file_layer)
        .with(crate::tui::log_layer::LogPaneLayer)
        .try_init();
    tui_logger::init_logger(tui_logger::LevelFilter::Trace).context("starting the log pane")?;
    Ok(())
}
