//! How dim speaks S3 on the wire: credentials from the environment, SDK errors classified like
//! injected ones, copy-source key encoding, ETags and base64 digests.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use base64::Engine as _;

use crate::tiers::{ErrorKind, TierError};

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

/// An SDK error in a person's words: what the service answered, or why no answer came from
/// `endpoint` and what to check. The SDK's Debug form (1,500 characters) goes to DEBUG only.
pub(super) fn in_words<E: ProvideErrorMetadata + std::error::Error + 'static>(
    e: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    endpoint: &str,
) -> String {
    tracing::debug!(target: "dim::s3", error = ?e, "S3 error in full");
    let at = if endpoint.is_empty() {
        "the S3 endpoint"
    } else {
        endpoint
    };
    match e {
        SdkError::ServiceError(s) => {
            let status = s.raw().status().as_u16();
            match (s.err().code(), s.err().message()) {
                (Some(code), Some(m)) => format!("{code}: {m} (HTTP {status})"),
                (Some(code), None) => format!("{code} (HTTP {status})"),
                _ => format!("HTTP {status}"),
            }
        }
        SdkError::ResponseError(r) => format!("an answer dim could not read (HTTP {})", r.raw().status().as_u16()),
        SdkError::TimeoutError(_) => format!("no answer from {at} in time"),
        SdkError::DispatchFailure(_) => format!(
            "no answer from {at}: {}; check the tier's endpoint and that the server is up",
            innermost(e)
        ),
        _ => format!("the request could not be sent: {}", innermost(e)),
    }
}

/// The deepest cause of an error: the words closest to what happened ("Connection refused").
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last = e;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
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
