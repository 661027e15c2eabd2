//! The HTTP(S) client every S3 client of dim's is built with: rustls on ring, the system's root
//! certificates, the SDK's connection pool.

use aws_sdk_s3::config::SharedHttpClient;
use aws_smithy_http_client::Builder;
use aws_smithy_http_client::tls::Provider;
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;

/// The SDK's own hyper client with rustls on ring. Named here rather than taken from the SDK's
/// default, which is rustls on aws-lc-rs: the same TLS for S3, without a C library whose build
/// was minutes of every fresh build. Tests that fill a bucket with the plain SDK use it too.
pub fn https_client() -> SharedHttpClient {
    Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}
