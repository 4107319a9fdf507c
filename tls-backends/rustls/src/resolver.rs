//! Certificate selection by SNI across the vhosts sharing one listener.
//!
//! [`SniResolver`] holds, per vhost, the host names it answers for and its
//! parsed certificate and key. rustls asks it for a certificate while it
//! reads the ClientHello; the session asks it again, after the handshake,
//! which vhost owns the name the client sent. Both questions go through
//! the same matching function, so the certificate served and the vhost
//! reported can never disagree, and nothing per connection is stored here.
//!
//! Matching is exact and ASCII case-insensitive; a name `*.example.com`
//! matches exactly one extra label (`a.example.com`, not `example.com` nor
//! `a.b.example.com`). Vhosts are tried in order, so an exact name of an
//! earlier vhost wins over a later one's wildcard only by position. No or
//! an unknown SNI name gets the first vhost's certificate.
//!
//! This module must not do I/O or keep per-connection state.

use std::sync::Arc;

use lws_core::{TlsError, TlsVhost, sni_name_matches as matches};
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::pem;

/// One vhost as the resolver sees it.
#[derive(Debug)]
struct Entry {
    vhost: String,
    /// Lower-case host names (exact or `*.` wildcard).
    names: Vec<String>,
    key: Arc<CertifiedKey>,
}

/// Each vhost's names and certified key; the first is the default.
#[derive(Debug)]
pub(crate) struct SniResolver {
    entries: Vec<Entry>,
}

impl SniResolver {
    /// Parse every vhost's PEM chain and key; the error names the vhost.
    pub fn new(vhosts: &[TlsVhost<'_>], provider: &CryptoProvider) -> Result<Self, TlsError> {
        let entries = vhosts
            .iter()
            .map(|v| entry(v, provider))
            .collect::<Result<Vec<_>, _>>()?;
        if entries.is_empty() {
            return Err(TlsError::Config("no TLS vhosts for this listener".into()));
        }
        Ok(SniResolver { entries })
    }

    /// The vhost whose certificate a client sending `sni` gets: the owner
    /// of the name, else the first vhost.
    pub fn vhost_for(&self, sni: Option<&str>) -> &str {
        &self.entry_for(sni).vhost
    }

    fn entry_for(&self, sni: Option<&str>) -> &Entry {
        sni.and_then(|s| {
            self.entries
                .iter()
                .find(|e| e.names.iter().any(|n| matches(n, s)))
        })
        .unwrap_or(&self.entries[0])
    }
}

fn entry(v: &TlsVhost<'_>, provider: &CryptoProvider) -> Result<Entry, TlsError> {
    let chain = pem::certs(
        &v.spec.cert_chain_pem,
        &format!("vhost {:?} certificate", v.vhost),
    )?;
    let key = pem::key(&v.spec.key_pem, &format!("vhost {:?} private key", v.vhost))?;
    let key = CertifiedKey::from_der(chain, key, provider)
        .map_err(|e| TlsError::Config(format!("vhost {:?} certificate and key: {e}", v.vhost)))?;
    Ok(Entry {
        vhost: v.vhost.to_owned(),
        names: v.names.iter().map(|n| n.to_ascii_lowercase()).collect(),
        key: Arc::new(key),
    })
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.entry_for(hello.server_name()).key.clone())
    }
}
