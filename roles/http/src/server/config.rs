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
    /// How paths are kept inside `dir` (see [`Beneath`]).
    pub beneath: Beneath,
}

/// How a mount keeps lookups inside its directory. Both ways follow
/// symlinks that stay inside it and refuse the others (absolute, or
/// climbing above it with `..`), and refuse `..` escapes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Beneath {
    /// `openat2(RESOLVE_BENEATH)` if the kernel allows it (probed once
    /// when the mount opens), else [`Beneath::Walk`].
    #[default]
    Auto,
    /// Always a component-by-component `openat(O_NOFOLLOW)` walk, the
    /// fallback for kernels or seccomp profiles without `openat2`.
    Walk,
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
            beneath: Beneath::Auto,
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
    /// Methods the handler implements beyond the standard ones
    /// ([`crate::server::method::STANDARD`]), e.g. `PROPFIND`; any other
    /// is answered 501 by the library. Case-sensitive, like methods.
    pub methods: Vec<String>,
    /// Hand `CONNECT` requests to the handler (a proxy); otherwise they
    /// are answered 501.
    pub connect: bool,
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
            methods: Vec::new(),
            connect: false,
        }
    }
}
