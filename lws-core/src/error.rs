//! The error type of lws-core.

use std::io;

/// Everything that can go wrong in the core, saying with which input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("cannot listen on {endpoint}: {source}")]
    Listen { endpoint: String, source: io::Error },
    #[error("not an address: {0:?} (expected ip:port, [ipv6]:port or unix:/path)")]
    BadAddress(String),
    #[error("no vhost named {0:?}")]
    NoSuchVhost(String),
    #[error("vhost {vhost:?} has no protocol named {protocol:?}")]
    NoSuchProtocol { vhost: String, protocol: String },
    #[error("vhost {0:?} has no protocols; register at least one")]
    NoProtocols(String),
    #[error("duplicate vhost name {0:?}")]
    DuplicateVhost(String),
    #[error("vhosts sharing listener {0} must all use TLS or none")]
    MixedTls(String),
    #[error("vhost {0:?} serves TLS but the context has no TLS backend")]
    NoTlsBackend(String),
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    #[error("context has no vhosts")]
    NoVhosts,
    #[error(
        "output limit exceeded: {pending} bytes already pending, {attempted} more refused \
         (limit {limit}); wait for Writable"
    )]
    OutputLimit {
        pending: usize,
        attempted: usize,
        limit: usize,
    },
    #[error("the connection is closed")]
    Closed,
    #[error("the context is stopping")]
    Stopping,
    #[error("{0} is not supported on this kind of connection")]
    Unsupported(&'static str),
    #[error("cannot adopt descriptor: {0}")]
    Adopt(io::Error),
    #[error("event loop {lib}: {source}")]
    Loop {
        lib: &'static str,
        source: io::Error,
    },
    #[error(transparent)]
    Io(#[from] io::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
