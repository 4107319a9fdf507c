//! # lws-tls-openssl: the OpenSSL backend for lws
//!
//! Implements [`lws_core::TlsBackend`] with the system's OpenSSL (1.1.1 or
//! 3.x, through the `openssl` crate). OpenSSL is not sans-IO by itself:
//! each session runs an `SslStream` over an in-memory transport
//! ([`mem`]), so the core moves ciphertext between the socket and the
//! session exactly as with rustls, and TLS works on every event loop.
//!
//! - Server: one `SSL_CTX` per vhost; the listener's first vhost's
//!   context receives the ClientHello and its servername callback switches
//!   to the context of the vhost owning the client's SNI name (exact or
//!   `*.` wildcard, case-insensitive, the same rule as the rustls backend);
//!   the session reports that vhost. Each vhost has its own ALPN list; a
//!   client whose ALPN list shares nothing with it gets the fatal
//!   `no_application_protocol` alert (RFC 7301 §3.2).
//! - Client: roots from the given PEM only, else OpenSSL's default verify
//!   paths; host name (or IP address) verification; SNI; ALPN; optional
//!   client certificate.
//!
//! ```no_run
//! use lws_core::{Context, Endpoint, TlsServerSpec, VhostBuilder};
//! # fn demo(cert: Vec<u8>, key: Vec<u8>, p: impl lws_core::Protocol) -> lws_core::Result<()> {
//! let ctx = Context::builder()
//!     .tls_backend(lws_tls_openssl::OpensslBackend::shared())
//!     .vhost(
//!         VhostBuilder::new("localhost")
//!             .listen(Endpoint::Tcp("127.0.0.1:7681".parse().expect("address")))
//!             .tls(TlsServerSpec::from_pem(cert, key).alpn(["http/1.1"]))
//!             .protocol("p", p),
//!     )
//!     .build()?;
//! # drop(ctx); Ok(()) }
//! ```
//!
//! This crate must not do socket I/O: the core moves bytes between the
//! socket and the session.
#![forbid(unsafe_code)]

mod client;
mod identity;
mod mem;
mod server;
mod session;

use std::sync::Arc;

use lws_core::{TlsAcceptor, TlsBackend, TlsClientSpec, TlsConnector, TlsError, TlsVhost};

/// The OpenSSL backend. Stateless; share it with
/// [`OpensslBackend::shared`] for `ContextBuilder::tls_backend`.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpensslBackend;

impl OpensslBackend {
    pub fn new() -> Self {
        OpensslBackend
    }

    /// The backend as a shared handle for `ContextBuilder::tls_backend`.
    pub fn shared() -> lws_core::SharedTlsBackend {
        Arc::new(Self)
    }

    /// The OpenSSL version linked, e.g. `OpenSSL 3.0.19 ...`.
    pub fn version() -> &'static str {
        openssl::version::version()
    }
}

impl TlsBackend for OpensslBackend {
    fn name(&self) -> &'static str {
        "openssl"
    }

    fn acceptor(&self, vhosts: &[TlsVhost<'_>]) -> Result<Box<dyn TlsAcceptor>, TlsError> {
        Ok(Box::new(server::Acceptor::new(vhosts)?))
    }

    fn connector(&self, spec: &TlsClientSpec) -> Result<Box<dyn TlsConnector>, TlsError> {
        Ok(Box::new(client::Connector::new(spec)?))
    }
}

/// Describe an OpenSSL error stack for a [`TlsError`] (`what: reasons`).
pub(crate) fn stack(what: &str, e: &openssl::error::ErrorStack) -> String {
    let reasons: Vec<String> = e
        .errors()
        .iter()
        .map(|e| e.reason().unwrap_or("unknown reason").to_owned())
        .collect();
    match reasons.is_empty() {
        true => what.to_owned(),
        false => format!("{what}: {}", reasons.join("; ")),
    }
}

/// ALPN protocols in TLS wire format (each prefixed by its length);
/// protocols that are empty or longer than 255 bytes are a config error.
pub(crate) fn alpn_wire(protocols: &[Vec<u8>]) -> Result<Vec<u8>, TlsError> {
    let mut wire = Vec::new();
    for p in protocols {
        let len = u8::try_from(p.len())
            .ok()
            .filter(|&l| l > 0)
            .ok_or_else(|| TlsError::Config(format!("bad ALPN protocol {p:?}")))?;
        wire.push(len);
        wire.extend_from_slice(p);
    }
    Ok(wire)
}
