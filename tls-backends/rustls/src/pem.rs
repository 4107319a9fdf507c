//! PEM certificate chains and private keys, with errors that say which
//! input was wrong.

use lws_core::TlsError;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

pub(crate) fn certs(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::Config(format!("{what}: {e}")))?;
    if certs.is_empty() {
        return Err(TlsError::Config(format!(
            "{what}: no certificate in PEM input"
        )));
    }
    Ok(certs)
}

pub(crate) fn key(pem: &[u8], what: &str) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| TlsError::Config(format!("{what}: {e}")))
}
