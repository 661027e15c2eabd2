//! What can go wrong talking to the Kafka brokers, and the deadline every broker call runs under.

use std::time::Duration;

/// rskafka retries internally, at several nested levels; its own deadline bounds each level, and
/// this bounds a whole call, so the source notices an outage within seconds and says so.
pub(super) const CALL_DEADLINE: Duration = Duration::from_secs(4);
pub(super) const CALL_TIMEOUT: Duration = Duration::from_secs(6);

/// Why talking to the brokers failed: the source shows it while `reconnecting` and tries again.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("{what}: {source}")]
    Failed {
        what: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("{what}: no answer within {secs} s")]
    NoAnswer { what: String, secs: u64 },
    #[error("topic {topic} was created but does not show in the metadata")]
    TopicNotVisible { topic: String },
    #[error("partition consumer failed: {0}")]
    Consumer(#[from] tokio::task::JoinError),
}

impl BrokerError {
    pub(super) fn failed(what: impl Into<String>, e: impl std::error::Error + Send + Sync + 'static) -> BrokerError {
        BrokerError::Failed {
            what: what.into(),
            source: Box::new(e),
        }
    }
}

/// Runs one broker call with an overall time limit.
pub(super) async fn bounded<T, E: std::error::Error + Send + Sync + 'static>(
    what: &str,
    f: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, BrokerError> {
    match tokio::time::timeout(CALL_TIMEOUT, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(BrokerError::failed(what, e)),
        Err(_) => Err(BrokerError::NoAnswer {
            what: what.into(),
            secs: CALL_TIMEOUT.as_secs(),
        }),
    }
}
