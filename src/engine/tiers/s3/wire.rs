//! How dim speaks S3 on the wire: credentials from the environment, SDK errors classified like
//! injected ones, copy-source key encoding, ETags and base64 digests.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use base64::Engine as _;

use crate::engine::tiers::{ErrorKind, TierError};

pub(super) fn env(tier: &str, var: &str) -> Result<String, TierError> {
    std::env::var(var).map_err(|_| TierError::Config {
        tier: tier.to_string(),
        message: format!("environment variable {var} is not set (it should hold this tier's S3 credential)"),
    })
}

/// Classifies an SDK error exactly as chaos-injected errors are classified: by HTTP status and code.
pub(super) fn classify<E: ProvideErrorMetadata + std::error::Error + 'static>(
    e: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> ErrorKind {
    match e {
        SdkError::TimeoutError(_) => ErrorKind::Timeout,
        SdkError::DispatchFailure(d) => {
            if d.is_timeout() {
                ErrorKind::Timeout
            } else if d.is_io() {
                ErrorKind::Connection
            } else {
                ErrorKind::Other
            }
        }
        SdkError::ResponseError(r) => ErrorKind::from_http(r.raw().status().as_u16(), None),
        SdkError::ServiceError(s) => ErrorKind::from_http(s.raw().status().as_u16(), s.err().code()),
        _ => ErrorKind::Other,
    }
}

/// Percent-encodes a key for `x-amz-copy-source`, keeping '/'.
pub(super) fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(super) fn trim_etag(e: Option<&str>) -> String {
    e.unwrap_or_default().trim_matches('"').to_string()
}

pub(super) fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_source_keys_are_encoded() {
        assert_eq!(encode_key("a/b c+d.bin"), "a/b%20c%2Bd.bin");
        assert_eq!(encode_key("ü"), "%C3%BC");
    }
}
