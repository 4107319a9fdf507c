//! The client side: one OpenSSL connector per client spec, and sessions
//! per connection that verify the server's certificate against the given
//! roots (else OpenSSL's default verify paths) and the name connected to.
//!
//! This module must not do I/O; it builds configuration and sessions only.

use lws_core::{TlsClientSpec, TlsConnector, TlsError, TlsSession};
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode};
use openssl::x509::X509;
use openssl::x509::store::X509StoreBuilder;

use crate::identity::set_identity;
use crate::session::Session;

pub(crate) struct Connector {
    connector: SslConnector,
    insecure: bool,
}

impl Connector {
    pub fn new(spec: &TlsClientSpec) -> Result<Self, TlsError> {
        let cfg =
            |what: &str, e: openssl::error::ErrorStack| TlsError::Config(crate::stack(what, &e));
        let mut b = SslConnector::builder(SslMethod::tls_client())
            .map_err(|e| cfg("TLS client context", e))?;
        if !spec.ca_pem.is_empty() {
            // The given roots only, as the rustls backend: not the system's.
            let cas = X509::stack_from_pem(&spec.ca_pem)
                .map_err(|e| cfg("ca_pem (CA certificates)", e))?;
            if cas.is_empty() {
                return Err(TlsError::Config(
                    "ca_pem (CA certificates): no PEM certificate found".into(),
                ));
            }
            let mut store = X509StoreBuilder::new().map_err(|e| cfg("CA store", e))?;
            for ca in cas {
                store
                    .add_cert(ca)
                    .map_err(|e| cfg("ca_pem (CA certificates)", e))?;
            }
            b.set_cert_store(store.build());
        }
        if let Some((chain, key)) = &spec.client_cert {
            set_identity(&mut b, chain, key, "client")?;
        }
        if !spec.alpn.is_empty() {
            b.set_alpn_protos(&crate::alpn_wire(&spec.alpn)?)
                .map_err(|e| cfg("ALPN", e))?;
        }
        if spec.insecure_skip_verify {
            log::warn!("TLS client: certificate verification DISABLED (insecure_skip_verify)");
            b.set_verify(SslVerifyMode::NONE);
        }
        Ok(Connector {
            connector: b.build(),
            insecure: spec.insecure_skip_verify,
        })
    }
}

/// A DNS name or IP address literal OpenSSL can verify and send as SNI:
/// non-empty, no spaces or control characters, no empty labels.
fn valid_server_name(name: &str) -> bool {
    if name.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    let name = name.strip_suffix('.').unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

impl TlsConnector for Connector {
    fn connect(&self, server_name: &str) -> Result<Box<dyn TlsSession>, TlsError> {
        if !valid_server_name(server_name) {
            return Err(TlsError::ServerName(server_name.to_owned()));
        }
        let ssl = self
            .connector
            .configure()
            .map(|c| c.verify_hostname(!self.insecure))
            .and_then(|c| c.into_ssl(server_name));
        Ok(match ssl {
            Ok(mut ssl) => {
                ssl.set_connect_state();
                Box::new(Session::client(ssl))
            }
            Err(e) => Box::new(Session::broken(crate::stack("TLS client session", &e))),
        })
    }
}
