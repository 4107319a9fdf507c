//! Certificate selection by SNI across the vhosts sharing a listener.

use std::sync::Arc;

use lws_core::{TlsError, TlsVhost};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::pem;

/// Each vhost's names and certified key; the first is the default.
#[derive(Debug)]
pub(crate) struct SniResolver {
    entries: Vec<(String, Vec<String>, Arc<CertifiedKey>)>,
}

impl SniResolver {
    pub fn new(vhosts: &[TlsVhost<'_>]) -> Result<Self, TlsError> {
        let provider = rustls::crypto::ring::default_provider();
        let mut entries = Vec::with_capacity(vhosts.len());
        for v in vhosts {
            let chain = pem::certs(
                &v.spec.cert_chain_pem,
                &format!("vhost {:?} certificate", v.vhost),
            )?;
            let key = pem::key(&v.spec.key_pem, &format!("vhost {:?} private key", v.vhost))?;
            let ck = CertifiedKey::from_der(chain, key, &provider)
                .map_err(|e| TlsError::Config(format!("vhost {:?}: {e}", v.vhost)))?;
            let names = v.names.iter().map(|n| n.to_ascii_lowercase()).collect();
            entries.push((v.vhost.to_owned(), names, Arc::new(ck)));
        }
        if entries.is_empty() {
            return Err(TlsError::Config("no TLS vhosts".into()));
        }
        Ok(SniResolver { entries })
    }

    /// The vhost serving `sni` (exact or `*.` wildcard match), if any.
    pub fn vhost_for(&self, sni: &str) -> Option<&str> {
        let sni = sni.to_ascii_lowercase();
        self.entries
            .iter()
            .find(|(_, names, _)| names.iter().any(|n| matches(n, &sni)))
            .map(|(v, _, _)| v.as_str())
    }

    fn key_for(&self, sni: Option<&str>) -> Option<Arc<CertifiedKey>> {
        let by_name = sni.and_then(|s| {
            let s = s.to_ascii_lowercase();
            self.entries
                .iter()
                .find(|(_, names, _)| names.iter().any(|n| matches(n, &s)))
        });
        by_name.or(self.entries.first()).map(|(_, _, k)| k.clone())
    }
}

/// `*.example.com` matches exactly one extra label.
fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => name
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix),
        None => pattern == name,
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.key_for(hello.server_name())
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn wildcard_matches_one_label() {
        assert!(matches("a.test", "a.test"));
        assert!(matches("*.test", "a.test"));
        assert!(!matches("*.test", "a.b.test"));
        assert!(!matches("*.test", "test"));
        assert!(!matches("a.test", "b.test"));
    }
}
