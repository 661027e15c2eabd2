//! What an object carries besides its bytes — system headers, user metadata, tags, its original
//! modification time — read from one store and written to another, so a move loses none of it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::clock::Millis;

/// User-metadata key holding the original modification time, as rclone writes it (seconds since
/// the epoch with a fraction), so stores that set their own Last-Modified keep the first one.
const MTIME_KEY: &str = "mtime";

/// User-metadata keys dim writes for itself; they are not the user's and are not compared.
pub(super) const DIM_PREFIX: &str = "dim-";

/// An object's attributes. Every field travels on every path (S3 → S3, S3 ↔ local, local → local).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Attributes {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_disposition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_language: Option<String>,
    /// The `Expires` header as the store returned it (an HTTP date).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// `x-amz-meta-*` without the prefix, keys lower-case (S3 folds them); `mtime` among them.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub user: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

impl Attributes {
    /// The user metadata with dim's own keys left out.
    pub fn user_only(&self) -> BTreeMap<&str, &str> {
        self.user
            .iter()
            .filter(|(k, _)| !k.starts_with(DIM_PREFIX))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    /// Records `last_modified_ms` as the original modification time unless one is already kept
    /// (an earlier move, or rclone, wrote it).
    pub fn keep_mtime(&mut self, last_modified_ms: Millis) {
        if last_modified_ms > 0 && !self.user.contains_key(MTIME_KEY) {
            self.user.insert(MTIME_KEY.into(), format_mtime(last_modified_ms));
        }
    }

    /// The original modification time, if kept.
    pub fn mtime_ms(&self) -> Option<Millis> {
        parse_mtime(self.user.get(MTIME_KEY)?)
    }

    /// What must match after a copy: everything but dim's own metadata.
    pub fn same_as(&self, other: &Attributes) -> bool {
        self.difference(other).is_none()
    }

    /// How an object written with these attributes (`self`) differs from what a store holds
    /// (`other`): the first difference, values left out (metadata may hold what should not be
    /// logged). A Content-Type left unset is the store's to choose.
    pub fn difference(&self, other: &Attributes) -> Option<&'static str> {
        let pairs = [
            (
                "Content-Type",
                self.content_type.is_none() || self.content_type == other.content_type,
            ),
            ("Content-Encoding", self.content_encoding == other.content_encoding),
            ("Cache-Control", self.cache_control == other.cache_control),
            (
                "Content-Disposition",
                self.content_disposition == other.content_disposition,
            ),
            ("Content-Language", self.content_language == other.content_language),
            ("Expires", self.expires == other.expires),
            ("user metadata", self.user_only() == other.user_only()),
            ("tags", self.tags == other.tags),
        ];
        pairs.into_iter().find(|(_, same)| !same).map(|(what, _)| what)
    }

    /// Tags as S3's `x-amz-tagging` header value (URL-encoded query string).
    pub fn tagging_header(&self) -> Option<String> {
        if self.tags.is_empty() {
            return None;
        }
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.tags {
            out.append_pair(k, v);
        }
        Some(out.finish())
    }
}

/// `1700000000.123` — seconds with milliseconds, as rclone reads and writes its `mtime`.
fn format_mtime(ms: Millis) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

fn parse_mtime(s: &str) -> Option<Millis> {
    let secs: f64 = s.trim().parse().ok()?;
    secs.is_finite().then_some((secs * 1000.0).round() as Millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mtime_round_trips_in_rclones_format() {
        assert_eq!(format_mtime(1_700_000_000_123), "1700000000.123");
        assert_eq!(parse_mtime("1700000000.123"), Some(1_700_000_000_123));
        // rclone writes nanoseconds.
        assert_eq!(parse_mtime("1700000000.123456789"), Some(1_700_000_000_123));
        assert_eq!(parse_mtime("soon"), None);
        let mut a = Attributes::default();
        a.keep_mtime(1_000);
        a.keep_mtime(2_000);
        assert_eq!(a.mtime_ms(), Some(1_000), "the first one is kept");
    }

    #[test]
    fn dims_own_metadata_is_not_compared_and_tags_encode() {
        let mut a = Attributes::default();
        a.user.insert("owner".into(), "ops".into());
        let mut b = a.clone();
        b.user.insert("dim-sha256".into(), "ab".into());
        assert!(a.same_as(&b));
        b.tags.insert("team".into(), "a b&c".into());
        assert_eq!(a.difference(&b), Some("tags"));
        assert_eq!(b.tagging_header().as_deref(), Some("team=a+b%26c"));
    }
}
