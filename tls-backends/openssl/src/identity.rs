//! A certificate chain (leaf first) and its private key from PEM into an
//! OpenSSL context, checked to match: shared by server vhosts and client
//! certificates, so both report bad input the same way, naming `who`.
//!
//! This module must not do I/O.

use lws_core::TlsError;
use openssl::pkey::PKey;
use openssl::ssl::SslContextBuilder;
use openssl::x509::X509;

pub(crate) fn set_identity(
    b: &mut SslContextBuilder,
    chain_pem: &[u8],
    key_pem: &[u8],
    who: &str,
) -> Result<(), TlsError> {
    let cfg = |part: &str, e: openssl::error::ErrorStack| {
        TlsError::Config(crate::stack(&format!("{who} {part}"), &e))
    };
    let chain = X509::stack_from_pem(chain_pem).map_err(|e| cfg("certificate", e))?;
    let mut chain = chain.into_iter();
    let leaf = chain
        .next()
        .ok_or_else(|| TlsError::Config(format!("{who} certificate: no PEM certificate found")))?;
    let key = PKey::private_key_from_pem(key_pem).map_err(|e| cfg("private key", e))?;
    b.set_certificate(&leaf)
        .map_err(|e| cfg("certificate", e))?;
    for ca in chain {
        b.add_extra_chain_cert(ca)
            .map_err(|e| cfg("certificate chain", e))?;
    }
    b.set_private_key(&key).map_err(|e| cfg("private key", e))?;
    b.check_private_key()
        .map_err(|e| cfg("certificate and key", e))
}
