//! lws-dns: the sans-IO heart of lws's asynchronous stub resolver.
//!
//! - [`proto`]: the DNS message codec (queries out, answers in).
//! - [`config`]: `/etc/resolv.conf` and `/etc/hosts` parsers and loader.
//! - [`resolver`]: the lookup state machine, in the shape of quinn-proto:
//!   `lookup` / `handle_udp` / `handle_tcp` / `handle_timeout` feed it,
//!   `poll_transmit` / `poll_close` / `poll_timeout` / `poll_event` drain it.
//!
//! Nothing here opens a socket, reads a clock or blocks (the config loader
//! reads two files when asked to, and is meant for start-up): the caller's
//! event loop owns the sockets and passes `now` in. Integration with the
//! lws context and its connections lives elsewhere.
#![forbid(unsafe_code)]

pub mod config;
pub mod proto;
pub mod resolver;

pub use config::{ConfigPaths, Hosts, ResolvConf, SystemConfig};
pub use resolver::{
    Answer, FamilyPref, LookupEvent, LookupId, PartialAnswer, Proto, Resolver, ResolverConfig,
    SocketKey, Transmit,
};

/// Why a lookup failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DnsError {
    /// The name does not exist (NXDOMAIN, for every name tried).
    #[error("name does not exist (NXDOMAIN)")]
    NxDomain,
    /// The name exists but has no address of the families asked for.
    #[error("name has no address of the requested family")]
    NoAddress,
    /// The servers failed (SERVFAIL, or another error code).
    #[error("server failure (SERVFAIL)")]
    ServFail,
    /// The servers refused to answer (REFUSED).
    #[error("query refused (REFUSED)")]
    Refused,
    /// No server answered in time.
    #[error("no answer from any nameserver (timeout)")]
    Timeout,
    /// Answers came but could not be decoded.
    #[error("malformed answer: {0}")]
    Malformed(proto::ProtoError),
    /// The name cannot be put in a query (empty label, too long).
    #[error("invalid name: {0}")]
    InvalidName(proto::ProtoError),
    /// The CNAME chain is longer than the configured bound.
    #[error("CNAME chain longer than {0}")]
    AliasChainTooLong(u8),
    /// The lookup would need more queries than the configured bound.
    #[error("lookup needs more than {0} queries")]
    TooManyQueries(u16),
}
