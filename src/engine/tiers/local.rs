//! A tier that is a local directory: atomic writes (temp file, fsync, rename) and keys that cannot escape the root.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::TierError;

#[derive(Debug, Clone)]
pub struct LocalTier {
    root: PathBuf,
}

/// What a HEAD returns for a local object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalHead {
    pub size: u64,
    pub modified: SystemTime,
}

fn io(path: &Path, source: std::io::Error) -> TierError {
    TierError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Rejects keys that are empty, absolute, contain `..`/NUL, or would name a directory.
pub fn validate_key(key: &str) -> Result<(), TierError> {
    let bad = |why| {
        Err(TierError::InvalidKey {
            key: key.to_string(),
            why,
        })
    };
    if key.is_empty() {
        return bad("empty");
    }
    if key.contains('\0') {
        return bad("contains NUL");
    }
    if key.starts_with('/') || key.starts_with('\\') {
        return bad("absolute path");
    }
    if key.ends_with('/') {
        return bad("ends with '/'");
    }
    // Split on '/' ourselves: Path::components() silently drops inner "." segments.
    for seg in key.split('/') {
        match seg {
            "" => return bad("contains an empty path segment"),
            "." => return bad("contains a '.' segment"),
            ".." => return bad("contains '..'"),
            _ => {}
        }
    }
    if key.contains('\\') {
        return bad("contains a backslash");
    }
    Ok(())
}

impl LocalTier {
    pub fn new(root: impl Into<PathBuf>) -> Result<Self, TierError> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(|e| io(&root, e))?;
        Ok(Self { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn path_for(&self, key: &str) -> Result<PathBuf, TierError> {
        validate_key(key)?;
        Ok(self.root.join(key))
    }

    /// Writes `data` at `key` atomically: readers see the old bytes or the new ones, never a mix.
    pub fn put(&self, key: &str, data: &[u8]) -> Result<(), TierError> {
        let path = self.path_for(key)?;
        let dir = path.parent().unwrap_or(&self.root);
        fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let mut tmp = tempfile_in(dir).map_err(|e| io(dir, e))?;
        tmp.1.write_all(data).map_err(|e| io(&tmp.0, e))?;
        tmp.1.sync_all().map_err(|e| io(&tmp.0, e))?;
        drop(tmp.1);
        fs::rename(&tmp.0, &path).map_err(|e| {
            let _ = fs::remove_file(&tmp.0);
            io(&path, e)
        })?;
        Ok(())
    }

    pub fn head(&self, key: &str) -> Result<Option<LocalHead>, TierError> {
        let path = self.path_for(key)?;
        match fs::metadata(&path) {
            Ok(m) => Ok(Some(LocalHead {
                size: m.len(),
                modified: m.modified().map_err(|e| io(&path, e))?,
            })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&path, e)),
        }
    }

    pub fn get(&self, key: &str) -> Result<Vec<u8>, TierError> {
        let path = self.path_for(key)?;
        fs::read(&path).map_err(|e| io(&path, e))
    }

    /// Deletes `key`; deleting a missing object is not an error (idempotent).
    pub fn delete(&self, key: &str) -> Result<(), TierError> {
        let path = self.path_for(key)?;
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(&path, e)),
        }
    }
}

/// A uniquely named temp file beside the destination, so the final rename stays on one filesystem.
fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, fs::File)> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    loop {
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let p = dir.join(format!(".dim-tmp-{}-{n}", std::process::id()));
        match fs::OpenOptions::new().write(true).create_new(true).open(&p) {
            Ok(f) => return Ok((p, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_keys_that_escape_the_root() {
        for k in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a/./b",
            "./a",
            "a/..",
            "a//b",
            "a/",
            "nul\0",
            "a\\..\\b",
        ] {
            assert!(validate_key(k).is_err(), "{k:?} should be rejected");
        }
        for k in ["a", "a/b/c.bin", "docs/0001.pdf", "with space/ü.txt", "..hidden"] {
            assert!(validate_key(k).is_ok(), "{k:?} should be accepted");
        }
    }

    #[test]
    fn put_head_get_delete_roundtrip() {
        let dir = tempfile::tempdir().unwrap();
        let t = LocalTier::new(dir.path().join("tier")).unwrap();
        t.put("x/y.bin", b"hello").unwrap();
        assert_eq!(t.head("x/y.bin").unwrap().unwrap().size, 5);
        assert_eq!(t.get("x/y.bin").unwrap(), b"hello");
        t.put("x/y.bin", b"hi").unwrap();
        assert_eq!(t.get("x/y.bin").unwrap(), b"hi");
        t.delete("x/y.bin").unwrap();
        t.delete("x/y.bin").unwrap();
        assert!(t.head("x/y.bin").unwrap().is_none());
        // No temp files left behind.
        assert_eq!(fs::read_dir(dir.path().join("tier/x")).unwrap().count(), 0);
        assert!(t.put("../escape", b"x").is_err());
    }
}
