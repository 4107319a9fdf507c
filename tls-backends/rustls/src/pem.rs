//! PEM certificate chains and private keys, parsed with
//! `rustls-pki-types`, with errors that say which input was wrong (the
//! caller names it: "vhost \"a\" certificate", "client private key").
//!
//! This module must not read files or log key material.

use lws_core::TlsError;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Every certificate in `pem`, in order; at least one.
pub(crate) fn certs(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::Config(format!("{what}: {e}")))?;
    if certs.is_empty() {
        return Err(TlsError::Config(format!(
            "{what}: no CERTIFICATE block in PEM input"
        )));
    }
    Ok(certs)
}

/// The first private key (PKCS#8, PKCS#1 or SEC1) in `pem`.
pub(crate) fn key(pem: &[u8], what: &str) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| TlsError::Config(format!("{what}: {e}")))
}
