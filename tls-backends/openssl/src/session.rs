//! An OpenSSL connection behind lws' sans-IO [`TlsSession`] trait.
//!
//! The `SslStream` runs over [`MemIo`]: `read_tls` appends ciphertext from
//! the socket, `process` drives the handshake or decrypts everything
//! available into `plain`, `write_plain` encrypts into the outbound buffer
//! and `write_tls` moves it to the socket. Buffers are bounded the way the
//! rustls backend bounds them:
//!
//! - Input: while decrypted plaintext waits for `read_plain` (the role
//!   paused reading), `read_tls` refuses more ciphertext with
//!   `WouldBlock`, so at most one read's worth of plaintext is buffered
//!   and TCP pushes back on the peer.
//! - Output: plaintext written before the handshake finished is held and
//!   encrypted when it does; after that every write is encrypted at once
//!   and the core bounds pending output (`ConnIo::write`).
//!
//! This module must not touch sockets or block.

use std::io;
use std::sync::Arc;

use lws_core::{TlsError, TlsSession};
use openssl::ssl::{ErrorCode, Ssl, SslStream};

use crate::mem::MemIo;

/// Ciphertext taken from the socket per `read_tls` (one TLS record and
/// then some).
const READ_CHUNK: usize = 18 * 1024;

/// Server side: the vhost names by index, and the index the servername
/// callback chose (absent: the first vhost).
#[derive(Clone)]
pub(crate) struct ServedBy {
    pub names: Arc<[String]>,
    pub index: openssl::ex_data::Index<Ssl, usize>,
}

pub(crate) struct Session {
    /// The connection, or why it could not be created (fails on first use).
    stream: Result<SslStream<MemIo>, String>,
    handshaking: bool,
    /// Decrypted bytes not yet taken by `read_plain`, from `plain_pos`.
    plain: Vec<u8>,
    plain_pos: usize,
    /// Plaintext written before the handshake finished.
    early: Vec<u8>,
    peer_closed: bool,
    served_by: Option<ServedBy>,
}

impl Session {
    pub fn new(ssl: Ssl, served_by: Option<ServedBy>) -> Self {
        let stream =
            SslStream::new(ssl, MemIo::default()).map_err(|e| crate::stack("TLS session", &e));
        Session {
            stream,
            handshaking: true,
            plain: Vec::new(),
            plain_pos: 0,
            early: Vec::new(),
            peer_closed: false,
            served_by,
        }
    }

    /// A client session with its ClientHello already in the outbound
    /// buffer (the core sends whatever `wants_write` reports once the
    /// socket connects; OpenSSL only writes it on the first handshake
    /// step).
    pub fn client(ssl: Ssl) -> Self {
        let mut s = Session::new(ssl, None);
        if let Err(e) = s.handshake() {
            s.stream = Err(e.to_string());
        }
        s
    }

    /// A session that could not be created: every I/O call fails with
    /// `why`, so the core closes the connection.
    pub fn broken(why: String) -> Self {
        Session {
            stream: Err(why),
            handshaking: true,
            plain: Vec::new(),
            plain_pos: 0,
            early: Vec::new(),
            peer_closed: false,
            served_by: None,
        }
    }

    fn stream(&mut self) -> io::Result<&mut SslStream<MemIo>> {
        self.stream
            .as_mut()
            .map_err(|why| io::Error::other(why.clone()))
    }

    fn plain_pending(&self) -> usize {
        self.plain.len() - self.plain_pos
    }

    /// Drive the handshake one step; `Ok(true)` once it has completed.
    fn handshake(&mut self) -> Result<bool, TlsError> {
        let s = self
            .stream
            .as_mut()
            .map_err(|why| TlsError::Config(why.clone()))?;
        match s.do_handshake() {
            Ok(()) => {}
            Err(e) if e.code() == ErrorCode::WANT_READ => return Ok(false),
            Err(e) => return Err(TlsError::Handshake(describe(s, &e))),
        }
        self.handshaking = false;
        let early = std::mem::take(&mut self.early);
        write_all(s, &early).map_err(|e| TlsError::Protocol(e.to_string()))?;
        Ok(true)
    }

    /// Decrypt every complete record received into `plain`.
    fn decrypt(&mut self) -> Result<(), TlsError> {
        let Ok(s) = self.stream.as_mut() else {
            return Ok(());
        };
        if self.plain_pos == self.plain.len() {
            self.plain.clear();
            self.plain_pos = 0;
        }
        let mut buf = [0u8; 16 * 1024];
        while !self.peer_closed {
            match s.ssl_read(&mut buf) {
                Ok(0) => break,
                Ok(n) => self.plain.extend_from_slice(&buf[..n]),
                Err(e) if e.code() == ErrorCode::WANT_READ => break,
                Err(e) if e.code() == ErrorCode::ZERO_RETURN => self.peer_closed = true,
                Err(e) => return Err(TlsError::Protocol(describe(s, &e))),
            }
        }
        Ok(())
    }
}

/// Encrypt all of `data`. The memory transport never blocks, so OpenSSL
/// takes each chunk whole unless the connection has failed.
fn write_all(s: &mut SslStream<MemIo>, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        match s.ssl_write(data) {
            Ok(n) => data = &data[n..],
            Err(e) => return Err(io::Error::other(describe(s, &e))),
        }
    }
    Ok(())
}

/// OpenSSL's reasons, plus the certificate verification result when that
/// is what failed ("self-signed certificate", "hostname mismatch").
fn describe(s: &SslStream<MemIo>, e: &openssl::ssl::Error) -> String {
    let mut msg = match e.ssl_error() {
        Some(stack) => crate::stack("TLS", stack),
        None => match e.io_error() {
            Some(io) => format!("TLS: {io}"),
            None => format!("TLS: {e}"),
        },
    };
    let verify = s.ssl().verify_result();
    if verify != openssl::x509::X509VerifyResult::OK {
        msg.push_str(&format!(" (certificate: {})", verify.error_string()));
    }
    msg
}

impl TlsSession for Session {
    fn read_tls(&mut self, rd: &mut dyn io::Read) -> io::Result<usize> {
        if self.plain_pending() > 0 {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                "TLS plaintext not yet delivered; not reading more",
            ));
        }
        self.stream()?.get_mut().fill_from(rd, READ_CHUNK)
    }

    fn process(&mut self) -> Result<(), TlsError> {
        if self.handshaking && !self.handshake()? {
            return Ok(());
        }
        self.decrypt()
    }

    fn read_plain(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream()?;
        let avail = &self.plain[self.plain_pos..];
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.plain_pos += n;
        Ok(n)
    }

    fn write_plain(&mut self, data: &[u8]) -> io::Result<()> {
        if self.handshaking {
            self.stream()?;
            self.early.extend_from_slice(data);
            return Ok(());
        }
        write_all(self.stream()?, data)
    }

    fn wants_write(&self) -> bool {
        self.stream
            .as_ref()
            .is_ok_and(|s| !s.get_ref().outbound.is_empty())
    }

    fn write_tls(&mut self, wr: &mut dyn io::Write) -> io::Result<usize> {
        let out = &mut self.stream()?.get_mut().outbound;
        let n = wr.write(out)?;
        out.drain(..n);
        Ok(n)
    }

    fn is_handshaking(&self) -> bool {
        self.handshaking
    }

    fn peer_closed(&self) -> bool {
        self.peer_closed
    }

    fn send_close_notify(&mut self) {
        if self.handshaking {
            return; // OpenSSL refuses SSL_shutdown mid-handshake
        }
        if let Ok(s) = self.stream.as_mut() {
            // Queues the alert in the outbound buffer; the peer's reply is
            // not awaited (unidirectional shutdown, as the rustls backend).
            let _ = s.shutdown();
        }
    }

    fn alpn(&self) -> Option<&[u8]> {
        match self.handshaking {
            true => None,
            false => self.stream.as_ref().ok()?.ssl().selected_alpn_protocol(),
        }
    }

    /// The vhost whose certificate was served: the owner of the client's
    /// SNI name, else the listener's first vhost. `None` on client
    /// sessions and until the handshake completed.
    fn vhost(&self) -> Option<&str> {
        let by = self.served_by.as_ref().filter(|_| !self.handshaking)?;
        let s = self.stream.as_ref().ok()?;
        let i = s.ssl().ex_data(by.index).copied().unwrap_or(0);
        by.names.get(i).map(String::as_str)
    }
}
