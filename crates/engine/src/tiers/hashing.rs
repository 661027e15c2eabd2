//! A reader that hashes (SHA-256, MD5) and counts what passes through it, so checksums cost no second read.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use md5::Md5;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, ReadBuf};

pub struct HashingReader<R> {
    inner: R,
    sha: Sha256,
    md5: Md5,
    bytes: u64,
    progress: Option<Arc<AtomicU64>>,
}

impl<R> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            sha: Sha256::new(),
            md5: Md5::new(),
            bytes: 0,
            progress: None,
        }
    }

    /// Also publishes the byte count as it grows (for progress gauges).
    pub fn with_progress(mut self, progress: Arc<AtomicU64>) -> Self {
        self.progress = Some(progress);
        self
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// (SHA-256 hex, MD5 hex) of everything read so far.
    pub fn finish(self) -> (String, String) {
        (hex(&self.sha.finalize()), hex(&self.md5.finalize()))
    }
}

/// Lower-case hex of a digest (how checksums are written beside objects and compared).
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

impl<R: AsyncRead + Unpin> AsyncRead for HashingReader<R> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = res {
            let new = &buf.filled()[before..];
            if !new.is_empty() {
                let this = &mut *self;
                this.sha.update(new);
                this.md5.update(new);
                this.bytes += new.len() as u64;
                if let Some(p) = &this.progress {
                    p.store(this.bytes, Ordering::Relaxed);
                }
            }
        }
        res
    }
}

/// Counts what passes through (progress gauges) without hashing.
pub struct ProgressReader<R> {
    inner: R,
    progress: Arc<AtomicU64>,
}

impl<R> ProgressReader<R> {
    pub fn new(inner: R, progress: Arc<AtomicU64>) -> Self {
        progress.store(0, Ordering::Relaxed);
        Self { inner, progress }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for ProgressReader<R> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = res {
            self.progress
                .fetch_add((buf.filled().len() - before) as u64, Ordering::Relaxed);
        }
        res
    }
}
