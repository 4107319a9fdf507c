//! The seam between the core and a TLS backend (rustls, openssl, ...).
//!
//! A backend provides sans-IO sessions: the core moves ciphertext between
//! the socket and the session, and plaintext between the session and the
//! role, so TLS works on every loop without the loop knowing. Certificates
//! and keys are given to vhosts as backend-neutral PEM bytes
//! ([`TlsServerSpec`]); the backend turns the specs of all vhosts sharing a
//! listener into one acceptor that picks the certificate by SNI and reports
//! the name it matched, so the core can bind the connection to that vhost.
//!
//! This module defines traits and plain data only; it must not depend on
//! any TLS library.

use std::io;
use std::path::Path;
use std::sync::Arc;

/// Certificate, key and ALPN for a TLS server vhost, as PEM bytes.
#[derive(Clone)]
pub struct TlsServerSpec {
    /// PEM certificate chain, leaf first.
    pub cert_chain_pem: Vec<u8>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key_pem: Vec<u8>,
    /// ALPN protocols offered, in preference order (e.g. `h2`, `http/1.1`).
    pub alpn: Vec<Vec<u8>>,
}

impl std::fmt::Debug for TlsServerSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("TlsServerSpec")
            .field(
                "cert_chain_pem",
                &format_args!("{} bytes", self.cert_chain_pem.len()),
            )
            .field("alpn", &self.alpn)
            .finish_non_exhaustive()
    }
}

impl TlsServerSpec {
    pub fn from_pem(cert_chain_pem: impl Into<Vec<u8>>, key_pem: impl Into<Vec<u8>>) -> Self {
        TlsServerSpec {
            cert_chain_pem: cert_chain_pem.into(),
            key_pem: key_pem.into(),
            alpn: Vec::new(),
        }
    }

    pub fn from_pem_files(cert: impl AsRef<Path>, key: impl AsRef<Path>) -> io::Result<Self> {
        Ok(Self::from_pem(std::fs::read(cert)?, std::fs::read(key)?))
    }

    pub fn alpn<I, P>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        self.alpn = protocols.into_iter().map(|p| p.as_ref().to_vec()).collect();
        self
    }
}

/// How a TLS client verifies and identifies itself.
#[derive(Clone, Debug, Default)]
pub struct TlsClientSpec {
    /// PEM CA certificates to trust; empty means the backend's system roots.
    pub ca_pem: Vec<u8>,
    /// Optional client certificate chain and key, PEM.
    pub client_cert: Option<(Vec<u8>, Vec<u8>)>,
    /// ALPN protocols offered, in preference order.
    pub alpn: Vec<Vec<u8>>,
    /// DANGEROUS, tests only: accept any server certificate and skip
    /// handshake signature checks (like curl -k / lws "allow self-signed").
    /// The connection is encrypted but not authenticated.
    pub insecure_skip_verify: bool,
}

/// One side of one TLS connection, sans-IO.
pub trait TlsSession: 'static {
    /// Read ciphertext from `rd` (the socket) into the session.
    fn read_tls(&mut self, rd: &mut dyn io::Read) -> io::Result<usize>;
    /// Process what was read. An error is fatal for the connection; its
    /// alert (if any) is still available from `write_tls`.
    fn process(&mut self) -> Result<(), TlsError>;
    /// Take decrypted plaintext; `Ok(0)` when none is buffered, or after the
    /// peer's close_notify.
    fn read_plain(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    /// Encrypt `data` (buffered inside the session until `write_tls`).
    fn write_plain(&mut self, data: &[u8]) -> io::Result<()>;
    /// Whether ciphertext is waiting for `write_tls`.
    fn wants_write(&self) -> bool;
    /// Move pending ciphertext to `wr`.
    fn write_tls(&mut self, wr: &mut dyn io::Write) -> io::Result<usize>;
    fn is_handshaking(&self) -> bool;
    /// Whether the peer sent close_notify.
    fn peer_closed(&self) -> bool;
    /// Queue a close_notify alert.
    fn send_close_notify(&mut self);
    /// The ALPN protocol agreed, once the handshake completed.
    fn alpn(&self) -> Option<&[u8]>;
    /// Server side: the SNI name the certificate was selected for, mapped
    /// to the vhost name that owns it.
    fn vhost(&self) -> Option<&str> {
        None
    }
}

/// Makes server sessions for one listener (all vhosts sharing it).
pub trait TlsAcceptor: 'static {
    fn accept(&self) -> Box<dyn TlsSession>;
}

/// Makes client sessions.
pub trait TlsConnector: 'static {
    fn connect(&self, server_name: &str) -> Result<Box<dyn TlsSession>, TlsError>;
}

/// A TLS library, able to build acceptors and connectors from specs.
pub trait TlsBackend: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    /// An acceptor serving `vhosts` (vhost name, its DNS names, its spec).
    /// The first vhost's certificate answers clients that send no (or an
    /// unknown) SNI name.
    fn acceptor(&self, vhosts: &[TlsVhost<'_>]) -> Result<Box<dyn TlsAcceptor>, TlsError>;
    fn connector(&self, spec: &TlsClientSpec) -> Result<Box<dyn TlsConnector>, TlsError>;
}

/// A vhost as the backend sees it when building an acceptor.
#[derive(Debug, Clone, Copy)]
pub struct TlsVhost<'a> {
    pub vhost: &'a str,
    /// Host names this vhost answers for (its name and aliases).
    pub names: &'a [String],
    pub spec: &'a TlsServerSpec,
}

/// A shared backend handle.
pub type SharedTlsBackend = Arc<dyn TlsBackend>;

/// A TLS failure, with the backend's description.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    #[error("bad certificate or key: {0}")]
    Config(String),
    #[error("handshake failed: {0}")]
    Handshake(String),
    #[error("invalid server name {0:?}")]
    ServerName(String),
    #[error("TLS protocol error: {0}")]
    Protocol(String),
}

/// Whether a vhost host name `pattern` (exact, or `*.suffix` matching
/// exactly one extra non-empty label) matches the client's SNI `name`,
/// ignoring ASCII case. Every backend selects certificates with this one
/// rule, so the vhost a connection lands on never depends on the backend.
pub fn sni_name_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => name
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest.eq_ignore_ascii_case(suffix)),
        None => pattern.eq_ignore_ascii_case(name),
    }
}

#[cfg(test)]
mod tests {
    use super::sni_name_matches as matches;

    #[test]
    fn exact_names_ignore_ascii_case() {
        assert!(matches("a.test", "a.test"));
        assert!(matches("a.test", "A.Test"));
        assert!(matches("A.TEST", "a.test"));
        assert!(!matches("a.test", "b.test"));
        assert!(!matches("a.test", "a.test.evil"));
    }

    #[test]
    fn wildcard_matches_exactly_one_label() {
        assert!(matches("*.test", "a.test"));
        assert!(matches("*.test", "A.TEST"));
        assert!(!matches("*.test", "a.b.test"));
        assert!(!matches("*.test", "test"));
        assert!(!matches("*.test", ".test"));
    }
}
