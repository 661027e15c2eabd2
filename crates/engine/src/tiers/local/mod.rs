//! A tier that is a local directory: atomic writes (temp file, fsync, rename) and keys that cannot escape the root.
//! What an object carries besides its bytes is kept beside them in one extended attribute
//! (`user.dim.attrs`, JSON), set on the temp file before the rename so bytes and attributes
//! appear together; the original modification time becomes the file's mtime.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::{
    Attributes, ErrorKind, HashingReader, LIST_PAGE, Listing, ObjectMeta, ObjectStore, OpError, Reader, TierError,
    Version, Written,
};
use crate::clock::Millis;
use xattrs::{store_attrs, stored_attrs};

mod xattrs;

#[derive(Debug, Clone)]
pub struct LocalTier {
    name: String,
    root: PathBuf,
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
    pub fn new(name: &str, root: impl Into<PathBuf>) -> Result<Self, TierError> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(|e| io(&root, e))?;
        Ok(Self {
            name: name.to_string(),
            root,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn path_for(&self, key: &str) -> Result<PathBuf, TierError> {
        validate_key(key)?;
        Ok(self.root.join(key))
    }

    /// Writes `data` at `key` atomically: readers see the old bytes or the new ones, never a mix.
    pub fn put_bytes(&self, key: &str, data: &[u8]) -> Result<(), TierError> {
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

    pub fn read_bytes(&self, key: &str) -> Result<Vec<u8>, TierError> {
        let path = self.path_for(key)?;
        fs::read(&path).map_err(|e| io(&path, e))
    }

    /// Deletes `key`; deleting a missing object is not an error (idempotent).
    pub fn remove(&self, key: &str) -> Result<(), TierError> {
        let path = self.path_for(key)?;
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(&path, e)),
        }
    }
}

/// The local "ETag": size and modification time, which change whenever the file is rewritten.
pub fn local_etag(m: &fs::Metadata) -> String {
    let ns = m
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    format!("{:x}-{ns:x}", m.len())
}

fn meta_of(m: &fs::Metadata) -> ObjectMeta {
    let ms = m
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis() as Millis);
    ObjectMeta {
        size: m.len(),
        etag: local_etag(m),
        last_modified_ms: ms,
        ..ObjectMeta::default()
    }
}

const TMP_PREFIX: &str = ".dim-tmp-";

impl LocalTier {
    fn op_err(&self, op: &'static str, key: &str, e: TierError) -> OpError {
        let kind = match &e {
            TierError::InvalidKey { .. } => ErrorKind::InvalidKey,
            TierError::Io { source, .. } => ErrorKind::from_io(source.kind()),
            TierError::Config { .. } | TierError::NoBackend { .. } => ErrorKind::Other,
        };
        OpError::new(kind, &self.name, op, key, e.to_string())
    }

    async fn blocking<T: Send + 'static>(
        &self,
        op: &'static str,
        key: &str,
        f: impl FnOnce(LocalTier) -> Result<T, TierError> + Send + 'static,
    ) -> Result<T, OpError> {
        let me = self.clone();
        match tokio::task::spawn_blocking(move || f(me)).await {
            Ok(r) => r.map_err(|e| self.op_err(op, key, e)),
            Err(e) => Err(OpError::new(ErrorKind::Other, &self.name, op, key, e.to_string())),
        }
    }
}

fn sha256_of_file(path: &Path) -> Result<(u64, String), TierError> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut f = fs::File::open(path).map_err(|e| io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut n = 0u64;
    loop {
        let r = f.read(&mut buf).map_err(|e| io(path, e))?;
        if r == 0 {
            break;
        }
        h.update(&buf[..r]);
        n += r as u64;
    }
    Ok((n, super::hashing::hex(&h.finalize())))
}

fn list_dir(root: &Path, dir: &Path, prefix: &str, out: &mut Vec<(String, ObjectMeta)>) -> Result<(), TierError> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(dir, e)),
    };
    for entry in rd {
        let entry = entry.map_err(|e| io(dir, e))?;
        let path = entry.path();
        let ft = entry.file_type().map_err(|e| io(&path, e))?;
        if ft.is_dir() {
            list_dir(root, &path, prefix, out)?;
        } else if ft.is_file() {
            if entry.file_name().to_string_lossy().starts_with(TMP_PREFIX) {
                continue;
            }
            let Ok(rel) = path.strip_prefix(root) else { continue };
            let key = rel.to_string_lossy().replace('\\', "/");
            if key.starts_with(prefix) {
                let m = entry.metadata().map_err(|e| io(&path, e))?;
                out.push((key, meta_of(&m)));
            }
        }
    }
    Ok(())
}

#[async_trait]
impl ObjectStore for LocalTier {
    fn tier(&self) -> &str {
        &self.name
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, OpError> {
        let k = key.to_string();
        self.blocking("head", key, move |t| {
            let path = t.path_for(&k)?;
            match fs::metadata(&path) {
                Ok(m) => Ok(Some(meta_of(&m))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(io(&path, e)),
            }
        })
        .await
    }

    async fn attributes(&self, key: &str, _version: Option<&str>) -> Result<Attributes, OpError> {
        let k = key.to_string();
        self.blocking("head", key, move |t| {
            let path = t.path_for(&k)?;
            let m = fs::metadata(&path).map_err(|e| io(&path, e))?;
            let mut a = stored_attrs(&path)?;
            a.keep_mtime(meta_of(&m).last_modified_ms);
            Ok(a)
        })
        .await
    }

    async fn get(&self, key: &str, from: Option<Version<'_>>) -> Result<(ObjectMeta, Reader), OpError> {
        let if_match = from.map(|v| v.etag);
        let path = self.path_for(key).map_err(|e| self.op_err("get", key, e))?;
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| self.op_err("get", key, io(&path, e)))?;
        let m = file
            .metadata()
            .await
            .map_err(|e| self.op_err("get", key, io(&path, e)))?;
        let meta = meta_of(&m);
        if let Some(want) = if_match
            && want != meta.etag
        {
            return Err(OpError::new(
                ErrorKind::PreconditionFailed,
                &self.name,
                "get",
                key,
                format!("ETag is {}, expected {want}", meta.etag),
            ));
        }
        Ok((meta, Box::new(tokio::io::BufReader::with_capacity(256 * 1024, file))))
    }

    async fn put(&self, key: &str, body: Reader, size: u64, attrs: &Attributes) -> Result<Written, OpError> {
        let path = self.path_for(key).map_err(|e| self.op_err("put", key, e))?;
        let dir = path.parent().unwrap_or(&self.root).to_path_buf();
        let err = |e: std::io::Error, p: &Path| self.op_err("put", key, io(p, e));
        tokio::fs::create_dir_all(&dir).await.map_err(|e| err(e, &dir))?;
        let (tmp, file) = tempfile_in(&dir).map_err(|e| err(e, &dir))?;
        let result = async {
            let mut file = tokio::fs::File::from_std(file);
            let mut reader = HashingReader::new(body);
            tokio::io::copy(&mut reader, &mut file)
                .await
                .map_err(|e| err(e, &tmp))?;
            let std_file = file.into_std().await;
            let (tmp2, a) = (tmp.clone(), attrs.clone());
            tokio::task::spawn_blocking(move || {
                store_attrs(&tmp2, &std_file, &a)?;
                std_file.sync_all().map_err(|e| io(&tmp2, e))
            })
            .await
            .map_err(|e| OpError::new(ErrorKind::Other, &self.name, "put", key, e.to_string()))?
            .map_err(|e| self.op_err("put", key, e))?;
            if reader.bytes() != size {
                return Err(OpError::new(
                    ErrorKind::Connection,
                    &self.name,
                    "put",
                    key,
                    format!("body ended after {} of {size} bytes", reader.bytes()),
                ));
            }
            let (sha, _) = reader.finish();
            tokio::fs::rename(&tmp, &path).await.map_err(|e| err(e, &path))?;
            let m = tokio::fs::metadata(&path).await.map_err(|e| err(e, &path))?;
            Ok(Written {
                size,
                etag: local_etag(&m),
                sha256: Some(sha),
                attrs: attrs.clone(),
                version_id: None,
            })
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result
    }

    async fn difference(&self, key: &str, expected: &Written) -> Result<Option<&'static str>, OpError> {
        let k = key.to_string();
        let want = expected.clone();
        let why = self
            .blocking("verify", key, move |t| {
                let path = t.path_for(&k)?;
                if !path.exists() {
                    return Ok(Some("missing"));
                }
                if let Some(what) = want.attrs.difference(&stored_attrs(&path)?) {
                    return Ok(Some(what));
                }
                // Nothing to check the bytes against is a failure: never accept on size alone.
                let Some(sha) = &want.sha256 else {
                    return Ok(Some("checksum"));
                };
                let (n, got) = sha256_of_file(&path)?;
                Ok((n != want.size || &got != sha).then_some("checksum"))
            })
            .await?;
        if let Some(what) = why {
            tracing::warn!(target: "dim::tiers", tier = %self.name, key, what, "the object differs from what was written");
        }
        Ok(why)
    }

    async fn delete(&self, key: &str, _version: Option<&str>) -> Result<(), OpError> {
        let k = key.to_string();
        self.blocking("delete", key, move |t| t.remove(&k)).await
    }

    async fn list_pages(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        on_page: &mut (dyn FnMut(Listing) + Send),
    ) -> Result<(), OpError> {
        let p = prefix.to_string();
        let after = start_after.map(str::to_string);
        let mut all = self
            .blocking("list", prefix, move |t| {
                let mut out = Vec::new();
                list_dir(&t.root, &t.root, &p, &mut out)?;
                if let Some(after) = &after {
                    out.retain(|(k, _)| k > after);
                }
                out.sort_by(|a, b| a.0.cmp(&b.0));
                Ok(out)
            })
            .await?;
        while !all.is_empty() {
            let rest = all.split_off(all.len().min(LIST_PAGE));
            on_page(std::mem::replace(&mut all, rest));
        }
        Ok(())
    }
}

/// A uniquely named temp file beside the destination, so the final rename stays on one filesystem.
fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, fs::File)> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    loop {
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let p = dir.join(format!("{TMP_PREFIX}{}-{n}", std::process::id()));
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
        let t = LocalTier::new("t", dir.path().join("tier")).unwrap();
        t.put_bytes("x/y.bin", b"hello").unwrap();
        assert_eq!(fs::metadata(t.path_for("x/y.bin").unwrap()).unwrap().len(), 5);
        assert_eq!(t.read_bytes("x/y.bin").unwrap(), b"hello");
        t.put_bytes("x/y.bin", b"hi").unwrap();
        assert_eq!(t.read_bytes("x/y.bin").unwrap(), b"hi");
        t.remove("x/y.bin").unwrap();
        t.remove("x/y.bin").unwrap();
        assert!(!t.path_for("x/y.bin").unwrap().exists());
        // No temp files left behind.
        assert_eq!(fs::read_dir(dir.path().join("tier/x")).unwrap().count(), 0);
        assert!(t.put_bytes("../escape", b"x").is_err());
    }
}
