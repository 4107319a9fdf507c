//! # lws-tls-rustls: the rustls backend for lws
//!
//! Implements [`lws_core::TlsBackend`] with rustls' sans-IO connections, so
//! TLS runs on every event loop without the loop knowing. Server side: one
//! acceptor per listener whose certificate resolver picks, by SNI, the
//! certificate of the vhost that owns the name (falling back to the first
//! vhost), and reports that vhost after the handshake. Client side: roots
//! from given PEM or the system store, optional client certificate, ALPN.
//!
//! This crate must not do I/O: the core moves bytes between the socket and
//! the session.
#![forbid(unsafe_code)]

mod insecure;
mod pem;
mod resolver;
mod session;
#[cfg(feature = "testcert")]
pub mod testcert;

use std::sync::Arc;

use lws_core::{
    TlsAcceptor, TlsBackend, TlsClientSpec, TlsConnector, TlsError, TlsSession, TlsVhost,
};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};

use resolver::SniResolver;
use session::Session;

/// The rustls backend (ring crypto provider).
#[derive(Debug, Default, Clone, Copy)]
pub struct RustlsBackend;

impl RustlsBackend {
    pub fn new() -> Self {
        RustlsBackend
    }

    /// As a shared handle for `ContextBuilder::tls_backend`.
    pub fn shared() -> lws_core::SharedTlsBackend {
        Arc::new(RustlsBackend)
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl TlsBackend for RustlsBackend {
    fn name(&self) -> &'static str {
        "rustls"
    }

    fn acceptor(&self, vhosts: &[TlsVhost<'_>]) -> Result<Box<dyn TlsAcceptor>, TlsError> {
        let resolver = Arc::new(SniResolver::new(vhosts)?);
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(resolver.clone());
        config.alpn_protocols = vhosts
            .first()
            .map(|v| v.spec.alpn.clone())
            .unwrap_or_default();
        Ok(Box::new(Acceptor {
            config: Arc::new(config),
            resolver,
        }))
    }

    fn connector(&self, spec: &TlsClientSpec) -> Result<Box<dyn TlsConnector>, TlsError> {
        let versions = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?;
        let builder = match spec.insecure_skip_verify {
            true => versions
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(insecure::AcceptAnything)),
            false => versions.with_root_certificates(roots(&spec.ca_pem)?),
        };
        let mut config = match &spec.client_cert {
            Some((chain, key)) => builder
                .with_client_auth_cert(
                    pem::certs(chain, "client certificate")?,
                    pem::key(key, "client key")?,
                )
                .map_err(|e| TlsError::Config(format!("client certificate: {e}")))?,
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = spec.alpn.clone();
        Ok(Box::new(Connector {
            config: Arc::new(config),
        }))
    }
}

/// Given PEM roots, else the system's, else the Mozilla set.
fn roots(ca_pem: &[u8]) -> Result<RootCertStore, TlsError> {
    let mut store = RootCertStore::empty();
    if !ca_pem.is_empty() {
        for cert in pem::certs(ca_pem, "CA")? {
            store
                .add(cert)
                .map_err(|e| TlsError::Config(format!("CA certificate: {e}")))?;
        }
        return Ok(store);
    }
    let native = rustls_native_certs::load_native_certs();
    let (added, _) = store.add_parsable_certificates(native.certs);
    if added == 0 {
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    Ok(store)
}

struct Acceptor {
    config: Arc<ServerConfig>,
    resolver: Arc<SniResolver>,
}

impl TlsAcceptor for Acceptor {
    fn accept(&self) -> Box<dyn TlsSession> {
        match ServerConnection::new(self.config.clone()) {
            Ok(c) => Box::new(Session::server(c, self.resolver.clone())),
            Err(e) => Box::new(Session::broken(e.to_string())),
        }
    }
}

struct Connector {
    config: Arc<ClientConfig>,
}

impl TlsConnector for Connector {
    fn connect(&self, server_name: &str) -> Result<Box<dyn TlsSession>, TlsError> {
        let name = ServerName::try_from(server_name.to_owned())
            .map_err(|_| TlsError::ServerName(server_name.to_owned()))?;
        let conn = ClientConnection::new(self.config.clone(), name)
            .map_err(|e| TlsError::Config(e.to_string()))?;
        Ok(Box::new(Session::client(conn)))
    }
}
