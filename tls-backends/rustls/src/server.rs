//! The server side: one rustls `ServerConfig` per listener, shared by all
//! vhosts on it, and the [`Acceptor`] making a session per accepted
//! connection.
//!
//! Certificates are chosen per connection by [`SniResolver`]. ALPN is a
//! property of the whole `ServerConfig` in rustls, so a listener offers the
//! first vhost's ALPN list; when vhosts sharing a listener list different
//! protocols, a warning is logged and the others' lists are ignored. Put
//! vhosts that need different ALPN on different listeners.
//!
//! This module must not do I/O; it builds configuration and sessions only.

use std::sync::Arc;

use lws_core::{TlsAcceptor, TlsError, TlsSession, TlsVhost};
use rustls::crypto::CryptoProvider;
use rustls::{ServerConfig, ServerConnection};

use crate::resolver::SniResolver;
use crate::session::Session;

/// Makes server sessions for one listener.
#[derive(Debug)]
pub(crate) struct Acceptor {
    config: Arc<ServerConfig>,
    resolver: Arc<SniResolver>,
}

impl Acceptor {
    /// Parse every vhost's certificate and key and build the listener's
    /// configuration. The first vhost answers clients without (or with an
    /// unknown) SNI name.
    pub fn new(vhosts: &[TlsVhost<'_>], provider: &Arc<CryptoProvider>) -> Result<Self, TlsError> {
        let resolver = Arc::new(SniResolver::new(vhosts, provider)?);
        let mut config = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(format!("server protocol versions: {e}")))?
            .with_no_client_auth()
            .with_cert_resolver(resolver.clone());
        config.alpn_protocols = listener_alpn(vhosts);
        Ok(Acceptor {
            config: Arc::new(config),
            resolver,
        })
    }
}

/// The first vhost's ALPN list; warns about vhosts that disagree.
fn listener_alpn(vhosts: &[TlsVhost<'_>]) -> Vec<Vec<u8>> {
    let Some(first) = vhosts.first() else {
        return Vec::new();
    };
    for v in vhosts.iter().filter(|v| v.spec.alpn != first.spec.alpn) {
        log::warn!(
            "TLS: vhost {:?} shares a listener with {:?} but lists other ALPN \
             protocols; the listener offers {:?}'s",
            v.vhost,
            first.vhost,
            first.vhost
        );
    }
    first.spec.alpn.clone()
}

impl TlsAcceptor for Acceptor {
    fn accept(&self) -> Box<dyn TlsSession> {
        match ServerConnection::new(self.config.clone()) {
            Ok(c) => Box::new(Session::server(c, self.resolver.clone())),
            Err(e) => Box::new(Session::broken(format!("TLS server session: {e}"))),
        }
    }
}
