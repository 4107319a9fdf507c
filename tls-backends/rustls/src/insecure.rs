//! `TlsClientSpec::insecure_skip_verify`: a verifier that accepts any
//! server certificate and any handshake signature. For tests against peers
//! with unverifiable certificates only (e.g. the C libwebsockets test
//! server's 1024-bit, SAN-less one, whose RSA key `ring` refuses even for
//! signatures). The connection is encrypted but NOT authenticated.
//!
//! This verifier must never be installed unless a spec asks for it.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, Error, SignatureScheme};

#[derive(Debug)]
pub(crate) struct AcceptAnything {
    schemes: Vec<SignatureScheme>,
}

impl AcceptAnything {
    /// Offers the signature schemes `provider` knows.
    pub fn new(provider: &Arc<CryptoProvider>) -> Self {
        AcceptAnything {
            schemes: provider
                .signature_verification_algorithms
                .supported_schemes(),
        }
    }
}

impl ServerCertVerifier for AcceptAnything {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        log::warn!("TLS: server certificate NOT verified (insecure_skip_verify)");
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.schemes.clone()
    }
}
