//! The client side: one rustls `ClientConfig` per context, and the
//! [`Connector`] making a session per outgoing connection.
//!
//! Trust roots: the PEM certificates in `TlsClientSpec::ca_pem` when given
//! (and only those); otherwise the operating system's store, loaded once
//! per connector with `rustls-native-certs`; when that yields no usable
//! certificate (minimal containers), Mozilla's set from `webpki-roots`.
//! `insecure_skip_verify` replaces verification entirely (tests only).
//!
//! This module must not do I/O beyond reading the system's certificate
//! store when the connector is built.

use std::sync::Arc;

use lws_core::{TlsClientSpec, TlsConnector, TlsError, TlsSession};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, RootCertStore};

use crate::session::Session;
use crate::{insecure, pem};

/// Makes client sessions.
#[derive(Debug)]
pub(crate) struct Connector {
    config: Arc<ClientConfig>,
}

impl Connector {
    pub fn new(spec: &TlsClientSpec, provider: &Arc<CryptoProvider>) -> Result<Self, TlsError> {
        let versions = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(format!("client protocol versions: {e}")))?;
        let builder = match spec.insecure_skip_verify {
            true => versions
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(insecure::AcceptAnything::new(
                    provider,
                ))),
            false => versions.with_root_certificates(roots(&spec.ca_pem)?),
        };
        let mut config = match &spec.client_cert {
            Some((chain, key)) => builder
                .with_client_auth_cert(
                    pem::certs(chain, "client certificate")?,
                    pem::key(key, "client private key")?,
                )
                .map_err(|e| TlsError::Config(format!("client certificate and key: {e}")))?,
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = spec.alpn.clone();
        Ok(Connector {
            config: Arc::new(config),
        })
    }
}

/// Given PEM roots, else the system's, else Mozilla's.
fn roots(ca_pem: &[u8]) -> Result<RootCertStore, TlsError> {
    let mut store = RootCertStore::empty();
    if !ca_pem.is_empty() {
        for cert in pem::certs(ca_pem, "CA certificates (ca_pem)")? {
            store
                .add(cert)
                .map_err(|e| TlsError::Config(format!("CA certificate (ca_pem): {e}")))?;
        }
        return Ok(store);
    }
    let native = rustls_native_certs::load_native_certs();
    for e in &native.errors {
        log::debug!("TLS: system certificate store: {e}");
    }
    let (added, ignored) = store.add_parsable_certificates(native.certs);
    log::debug!("TLS: {added} system root certificates ({ignored} unusable)");
    if added == 0 {
        log::info!("TLS: no usable system root certificates; using webpki-roots");
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    Ok(store)
}

impl TlsConnector for Connector {
    /// A session for `server_name` (a DNS name or an IP address), which is
    /// both sent as SNI (DNS names only) and checked against the
    /// certificate.
    fn connect(&self, server_name: &str) -> Result<Box<dyn TlsSession>, TlsError> {
        let name = ServerName::try_from(server_name.to_owned())
            .map_err(|_| TlsError::ServerName(server_name.to_owned()))?;
        let conn = ClientConnection::new(self.config.clone(), name)
            .map_err(|e| TlsError::Config(format!("TLS client session: {e}")))?;
        Ok(Box::new(Session::client(conn)))
    }
}
