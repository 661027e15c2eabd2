//! A client of the control API (hyper, HTTP/1.1): over the engine's Unix socket, or TCP with the
//! bearer token.

use std::path::PathBuf;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::client::conn::http1::SendRequest;
use hyper::http::{Method, header};
use hyper_util::rt::TokioIo;

/// Where the engine's API is.
#[derive(Clone)]
pub enum Endpoint {
    Socket(PathBuf),
    Tcp { addr: String, token: Option<String> },
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Socket(p) => write!(f, "{}", p.display()),
            Endpoint::Tcp { addr, .. } => write!(f, "http://{addr}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("no engine answers at {at}: {source} (is `dim --daemon` or the dashboard running on this --data-dir?)")]
    Unreachable { at: String, source: std::io::Error },
    #[error("talking to the engine at {at}: {source}")]
    Protocol { at: String, source: hyper::Error },
    #[error("{0}: use http://HOST:PORT")]
    BadUrl(String),
}

/// One answer: the HTTP status and the JSON body.
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

impl Endpoint {
    /// `http://HOST:PORT` (a path after it is ignored) with an optional token.
    pub fn url(url: &str, token: Option<String>) -> Result<Endpoint, ClientError> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| ClientError::BadUrl(url.to_string()))?;
        let addr = rest.split('/').next().unwrap_or_default();
        if addr.is_empty() {
            return Err(ClientError::BadUrl(url.to_string()));
        }
        Ok(Endpoint::Tcp {
            addr: addr.to_string(),
            token,
        })
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, ClientError> {
        let at = self.to_string();
        let unreachable = |source| ClientError::Unreachable { at: at.clone(), source };
        let protocol = |source| ClientError::Protocol { at: at.clone(), source };
        let (sender, conn) = match self {
            Endpoint::Socket(p) => {
                let s = tokio::net::UnixStream::connect(p).await.map_err(unreachable)?;
                let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(s))
                    .await
                    .map_err(protocol)?;
                (sender, tokio::spawn(async move { conn.await.ok() }))
            }
            Endpoint::Tcp { addr, .. } => {
                let s = tokio::net::TcpStream::connect(addr).await.map_err(unreachable)?;
                let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(s))
                    .await
                    .map_err(protocol)?;
                (sender, tokio::spawn(async move { conn.await.ok() }))
            }
        };
        drop(conn);
        Ok(sender)
    }

    fn request(&self, method: Method, path: &str, body: Vec<u8>) -> Request<Full<Bytes>> {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "dim")
            .header(header::CONTENT_TYPE, "application/json");
        if let Endpoint::Tcp { token: Some(t), .. } = self {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        match req.body(Full::new(Bytes::from(body))) {
            Ok(r) => r,
            // The parts above are all valid; an error here is a bug in this function.
            Err(e) => unreachable!("building a request: {e}"),
        }
    }

    /// Sends one request and reads the whole answer.
    pub async fn call(&self, method: Method, path: &str, body: Vec<u8>) -> Result<Answer, ClientError> {
        let at = self.to_string();
        let protocol = |source| ClientError::Protocol { at: at.clone(), source };
        let mut sender = self.connect().await?;
        let resp = sender
            .send_request(self.request(method, path, body))
            .await
            .map_err(protocol)?;
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await.map_err(protocol)?.to_bytes();
        Ok(Answer { status, body })
    }

    pub async fn get(&self, path: &str) -> Result<Answer, ClientError> {
        self.call(Method::GET, path, Vec::new()).await
    }

    /// Follows a stream of newline-delimited JSON, calling `on_line` with each line until the
    /// engine ends the stream (or `on_line` returns false).
    pub async fn follow(&self, path: &str, mut on_line: impl FnMut(&[u8]) -> bool) -> Result<(), ClientError> {
        let at = self.to_string();
        let protocol = |source| ClientError::Protocol { at: at.clone(), source };
        let mut sender = self.connect().await?;
        let resp = sender
            .send_request(self.request(Method::GET, path, Vec::new()))
            .await
            .map_err(protocol)?;
        let mut body = resp.into_body();
        let mut buf: Vec<u8> = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(protocol)?;
            if let Some(data) = frame.data_ref() {
                buf.extend_from_slice(data);
                while let Some(n) = buf.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = buf.drain(..=n).collect();
                    if !on_line(&line[..n]) {
                        return Ok(());
                    }
                }
            }
        }
        Ok(())
    }
}
