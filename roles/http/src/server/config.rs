//! Server policy: parser limits, body limit, timeouts and static mounts.

use std::path::PathBuf;
use std::time::Duration;

use crate::parse::Limits;

/// A URL prefix served from a directory by the role itself.
#[derive(Clone, Debug)]
pub struct Mount {
    /// URL prefix, starting and ending with `/` (e.g. `/` or `/static/`).
    pub prefix: String,
    pub dir: PathBuf,
    /// File served for a directory (default `index.html`).
    pub index: String,
}

impl Mount {
    pub fn dir(prefix: impl Into<String>, dir: impl Into<PathBuf>) -> Self {
        let mut prefix = prefix.into();
        if !prefix.starts_with('/') {
            prefix.insert(0, '/');
        }
        if !prefix.ends_with('/') {
            prefix.push('/');
        }
        Mount {
            prefix,
            dir: dir.into(),
            index: "index.html".into(),
        }
    }
}

/// Configuration of an HTTP/1 server protocol.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub limits: Limits,
    /// Largest accepted request body (413 above it).
    pub max_body: u64,
    /// A request head must arrive within this (408, then close).
    pub header_timeout: Duration,
    /// Longest pause while a request body is arriving.
    pub body_timeout: Duration,
    /// How long an idle keep-alive connection waits for the next request.
    pub keepalive_timeout: Duration,
    /// Most bytes of pipelined requests buffered while a response is pending.
    pub max_pipeline: usize,
    pub mounts: Vec<Mount>,
    /// The vhost protocol that takes WebSocket upgrades whose
    /// `Sec-WebSocket-Protocol` names no protocol of the vhost.
    pub websocket: Option<String>,
    #[cfg(feature = "http2")]
    /// Serve HTTP/2 (RFC 9113) on connections that negotiate ALPN `h2`
    /// (list it in the vhost's `TlsServerSpec`) or open with the HTTP/2
    /// preface in cleartext (prior knowledge). Default on.
    pub http2: bool,
    /// HTTP/2 windows and limits (its header limits follow `limits`).
    #[cfg(feature = "http2")]
    pub h2: crate::h2::H2Config,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            limits: Limits::default(),
            max_body: 16 * 1024 * 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            keepalive_timeout: Duration::from_secs(5),
            max_pipeline: 64 * 1024,
            mounts: Vec::new(),
            websocket: None,
            #[cfg(feature = "http2")]
            http2: true,
            #[cfg(feature = "http2")]
            h2: crate::h2::H2Config::default(),
        }
    }
}
