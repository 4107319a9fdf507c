//! # lws-tls-rustls: the rustls backend for lws
//!
//! Implements [`lws_core::TlsBackend`] with rustls' sans-IO connections, so
//! TLS runs on every event loop without the loop knowing:
//!
//! - Server: one acceptor per listener, whose certificate
//!   resolver picks, by the client's SNI name, the certificate of the vhost
//!   that owns the name (exact or `*.` wildcard, case-insensitive), falling
//!   back to the listener's first vhost; after the handshake the session
//!   reports that vhost so the core binds the connection to it.
//! - Client: roots from the given PEM, else the system store
//!   (else Mozilla's set), an optional client certificate, ALPN.
//! - `testcert` (feature `testcert`): throwaway CAs and leaf certificates
//!   for tests and examples.
//!
//! ```no_run
//! use lws_core::{Context, Endpoint, TlsServerSpec, VhostBuilder};
//! # fn demo(cert: Vec<u8>, key: Vec<u8>, p: impl lws_core::Protocol) -> lws_core::Result<()> {
//! let ctx = Context::builder()
//!     .tls_backend(lws_tls_rustls::RustlsBackend::shared())
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
//! This crate must not do I/O: the core moves bytes between the socket and
//! the session. It uses the `ring` crypto provider only (no C toolchain
//! beyond what `ring` needs, no aws-lc).
#![forbid(unsafe_code)]

mod client;
mod insecure;
mod pem;
mod resolver;
mod server;
mod session;
#[cfg(feature = "testcert")]
pub mod testcert;

use std::sync::Arc;

use lws_core::{TlsAcceptor, TlsBackend, TlsClientSpec, TlsConnector, TlsError, TlsVhost};
use rustls::crypto::CryptoProvider;

/// The rustls backend. Cheap to clone; share it with
/// [`RustlsBackend::shared`] for `ContextBuilder::tls_backend`.
#[derive(Debug, Clone)]
pub struct RustlsBackend {
    provider: Arc<CryptoProvider>,
}

impl Default for RustlsBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl RustlsBackend {
    /// The backend with rustls' `ring` provider and its default cipher
    /// suites and key exchange groups.
    pub fn new() -> Self {
        Self::with_provider(Arc::new(rustls::crypto::ring::default_provider()))
    }

    /// The backend with a chosen crypto provider (e.g. `ring` restricted to
    /// some cipher suites).
    pub fn with_provider(provider: Arc<CryptoProvider>) -> Self {
        RustlsBackend { provider }
    }

    /// [`RustlsBackend::new`] as a shared handle for
    /// `ContextBuilder::tls_backend`.
    pub fn shared() -> lws_core::SharedTlsBackend {
        Arc::new(Self::new())
    }
}

impl TlsBackend for RustlsBackend {
    fn name(&self) -> &'static str {
        "rustls"
    }

    fn acceptor(&self, vhosts: &[TlsVhost<'_>]) -> Result<Box<dyn TlsAcceptor>, TlsError> {
        Ok(Box::new(server::Acceptor::new(vhosts, &self.provider)?))
    }

    fn connector(&self, spec: &TlsClientSpec) -> Result<Box<dyn TlsConnector>, TlsError> {
        Ok(Box::new(client::Connector::new(spec, &self.provider)?))
    }
}
