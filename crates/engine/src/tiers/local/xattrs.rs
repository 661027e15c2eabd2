//! A local object's attributes in one extended attribute beside its bytes.

use std::fs;
use std::path::Path;

use super::io;
use crate::tiers::{Attributes, TierError};

/// The extended attribute holding an object's attributes.
const XATTR: &str = "user.dim.attrs";

/// The attributes stored with the file at `path` (none stored: the default).
pub(super) fn stored_attrs(path: &Path) -> Result<Attributes, TierError> {
    match xattr::get(path, XATTR) {
        Ok(Some(raw)) => serde_json::from_slice(&raw).map_err(|e| {
            io(
                path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{XATTR} is not valid: {e}")),
            )
        }),
        Ok(None) => Ok(Attributes::default()),
        Err(e) if e.kind() == std::io::ErrorKind::Unsupported => Ok(Attributes::default()),
        Err(e) => Err(io(path, e)),
    }
}

/// Stores `attrs` with the (temp) file at `path` and gives it the original modification time.
pub(super) fn store_attrs(path: &Path, file: &fs::File, attrs: &Attributes) -> Result<(), TierError> {
    if let Some(ms) = attrs.mtime_ms() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
        file.set_modified(t).map_err(|e| io(path, e))?;
    }
    if *attrs == Attributes::default() {
        return Ok(());
    }
    let raw = serde_json::to_vec(attrs).map_err(|e| io(path, std::io::Error::other(e)))?;
    xattr::set(path, XATTR, &raw).map_err(|e| {
        let why = if e.kind() == std::io::ErrorKind::Unsupported {
            std::io::Error::other(format!(
                "this filesystem has no extended attributes, so the object's metadata and tags would be lost ({e}); put the tier on ext4, xfs or btrfs"
            ))
        } else {
            e
        };
        io(path, why)
    })
}
