//! What S3 answers about an object, read into dim's terms: HEAD and GET headers become an
//! `ObjectMeta` and `Attributes`; `x-amz-restore` becomes a restore state.

use std::collections::HashMap;

use aws_sdk_s3::primitives::DateTime;
use aws_smithy_types::date_time::Format;

use super::wire::trim_etag;
use crate::tiers::{Attributes, ObjectMeta};

/// The headers HEAD and GET share, borrowed from either output.
pub(super) struct Headers<'a> {
    pub size: Option<i64>,
    pub etag: Option<&'a str>,
    pub last_modified: Option<&'a DateTime>,
    pub storage_class: Option<&'a str>,
    pub version_id: Option<&'a str>,
    pub restore: Option<&'a str>,
    pub sse: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub content_encoding: Option<&'a str>,
    pub cache_control: Option<&'a str>,
    pub content_disposition: Option<&'a str>,
    pub content_language: Option<&'a str>,
    pub expires: Option<&'a str>,
    pub metadata: Option<&'a HashMap<String, String>>,
}

/// Fills `Headers` from an SDK output that has the usual object getters.
macro_rules! headers_of {
    ($o:expr) => {{
        let o = $o;
        $crate::read::Headers {
            size: o.content_length(),
            etag: o.e_tag(),
            last_modified: o.last_modified(),
            storage_class: o.storage_class().map(|c| c.as_str()),
            version_id: o.version_id(),
            restore: o.restore(),
            sse: o.server_side_encryption().map(|s| s.as_str()),
            content_type: o.content_type(),
            content_encoding: o.content_encoding(),
            cache_control: o.cache_control(),
            content_disposition: o.content_disposition(),
            content_language: o.content_language(),
            expires: o.expires_string(),
            metadata: o.metadata(),
        }
    }};
}
pub(super) use headers_of;

impl Headers<'_> {
    pub(super) fn meta(&self) -> ObjectMeta {
        ObjectMeta {
            size: self.size.unwrap_or(0).max(0) as u64,
            etag: trim_etag(self.etag),
            last_modified_ms: millis(self.last_modified),
            storage_class: self.storage_class.map(str::to_string),
            version_id: self.version_id.map(str::to_string),
            restored: self.restore.map(|r| !r.contains("ongoing-request=\"true\"")),
            sse: self.sse.map(str::to_string),
        }
    }

    /// The attributes as stored, without tags (S3 returns them from a separate call).
    pub(super) fn attributes(&self) -> Attributes {
        let owned = |s: Option<&str>| s.map(str::to_string);
        Attributes {
            content_type: owned(self.content_type),
            content_encoding: owned(self.content_encoding),
            cache_control: owned(self.cache_control),
            content_disposition: owned(self.content_disposition),
            content_language: owned(self.content_language),
            expires: self.expires.map(normal_http_date),
            user: self
                .metadata
                .map(|m| m.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).collect())
                .unwrap_or_default(),
            tags: Default::default(),
        }
    }
}

fn millis(t: Option<&DateTime>) -> i64 {
    t.and_then(|t| t.to_millis().ok()).unwrap_or(0)
}

/// An HTTP date as S3 prints it, so the same instant compares equal however a server spelt it.
pub(super) fn normal_http_date(s: &str) -> String {
    DateTime::from_str(s.trim(), Format::HttpDate)
        .ok()
        .and_then(|d| d.fmt(Format::HttpDate).ok())
        .unwrap_or_else(|| s.to_string())
}

pub(super) fn http_date(s: &str) -> Option<DateTime> {
    DateTime::from_str(s.trim(), Format::HttpDate).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_compare_by_instant_and_restores_parse() {
        assert_eq!(
            normal_http_date("Wed, 21 Oct 2037 07:28:00 GMT"),
            normal_http_date(" Wed, 21 Oct 2037 07:28:00 GMT")
        );
        let h = |restore| Headers {
            size: Some(3),
            etag: Some("\"ab\""),
            last_modified: None,
            storage_class: Some("GLACIER"),
            version_id: None,
            restore,
            sse: None,
            content_type: None,
            content_encoding: None,
            cache_control: None,
            content_disposition: None,
            content_language: None,
            expires: None,
            metadata: None,
        };
        assert_eq!(h(None).meta().restored, None);
        assert_eq!(h(Some("ongoing-request=\"true\"")).meta().restored, Some(false));
        let done = "ongoing-request=\"false\", expiry-date=\"Fri, 21 Dec 2012 00:00:00 GMT\"";
        assert_eq!(h(Some(done)).meta().restored, Some(true));
        assert_eq!(h(None).meta().class(), "GLACIER");
    }
}
