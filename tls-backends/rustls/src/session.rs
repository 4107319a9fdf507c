//! A rustls connection behind lws' sans-IO [`TlsSession`] trait.
//!
//! The core moves ciphertext between the socket and this session and
//! plaintext between this session and the role; this module only adapts
//! rustls' verbs and errors. It must not touch sockets, block, or buffer
//! without bound:
//!
//! - Input: while decrypted plaintext is waiting for `read_plain` (the role
//!   paused reading), `read_tls` refuses more ciphertext with `WouldBlock`,
//!   so at most one `read_tls` worth of plaintext (a few KiB) is buffered
//!   and TCP pushes back on the peer. rustls itself would fail the read
//!   with "received plaintext buffer full" past 16 KiB.
//! - Output: rustls' own send limit is lifted because the core accepts a
//!   write whole and bounds pending output itself (`ConnIo::write`), moving
//!   ciphertext out of the session after every write.

use std::io::{self, Read, Write};
use std::sync::Arc;

use lws_core::{TlsError, TlsSession};
use rustls::{ClientConnection, Connection, ServerConnection};

use crate::resolver::SniResolver;

pub(crate) struct Session {
    /// The connection, or why it could not be created (fails on first use).
    conn: Result<Connection, String>,
    /// Server side: maps the client's SNI name to the vhost that owns it.
    resolver: Option<Arc<SniResolver>>,
    peer_closed: bool,
    /// Decrypted bytes not yet taken by `read_plain`.
    plain_pending: usize,
}

impl Session {
    fn new(mut conn: Connection, resolver: Option<Arc<SniResolver>>) -> Self {
        conn.set_buffer_limit(None);
        Session {
            conn: Ok(conn),
            resolver,
            peer_closed: false,
            plain_pending: 0,
        }
    }

    pub fn server(c: ServerConnection, resolver: Arc<SniResolver>) -> Self {
        Self::new(Connection::Server(c), Some(resolver))
    }

    pub fn client(c: ClientConnection) -> Self {
        Self::new(Connection::Client(c), None)
    }

    /// A session whose connection could not be created: every I/O call
    /// fails with `why`, so the core closes the connection.
    pub fn broken(why: String) -> Self {
        Session {
            conn: Err(why),
            resolver: None,
            peer_closed: false,
            plain_pending: 0,
        }
    }

    fn conn(&mut self) -> io::Result<&mut Connection> {
        self.conn
            .as_mut()
            .map_err(|why| io::Error::other(why.clone()))
    }
}

impl TlsSession for Session {
    fn read_tls(&mut self, rd: &mut dyn io::Read) -> io::Result<usize> {
        if self.plain_pending > 0 {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                "TLS plaintext not yet delivered; not reading more",
            ));
        }
        self.conn()?.read_tls(rd)
    }

    fn process(&mut self) -> Result<(), TlsError> {
        let conn = self.conn().map_err(|e| TlsError::Config(e.to_string()))?;
        let handshaking = conn.is_handshaking();
        let state = conn.process_new_packets().map_err(|e| match handshaking {
            true => TlsError::Handshake(e.to_string()),
            false => TlsError::Protocol(e.to_string()),
        })?;
        self.peer_closed |= state.peer_has_closed();
        self.plain_pending = state.plaintext_bytes_to_read();
        Ok(())
    }

    fn read_plain(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match self.conn()?.reader().read(buf) {
            Ok(n) => n,
            // Nothing buffered right now.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
            // The socket ended without close_notify: nothing more will come;
            // the core sees the EOF from `read_tls`.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => 0,
            Err(e) => return Err(e),
        };
        self.plain_pending = match n {
            0 => 0,
            n => self.plain_pending.saturating_sub(n),
        };
        Ok(n)
    }

    fn write_plain(&mut self, data: &[u8]) -> io::Result<()> {
        self.conn()?.writer().write_all(data)
    }

    fn wants_write(&self) -> bool {
        self.conn.as_ref().is_ok_and(|c| c.wants_write())
    }

    fn write_tls(&mut self, wr: &mut dyn io::Write) -> io::Result<usize> {
        self.conn()?.write_tls(wr)
    }

    fn is_handshaking(&self) -> bool {
        !self.conn.as_ref().is_ok_and(|c| !c.is_handshaking())
    }

    fn peer_closed(&self) -> bool {
        self.peer_closed
    }

    fn send_close_notify(&mut self) {
        if let Ok(c) = self.conn.as_mut() {
            c.send_close_notify();
        }
    }

    fn alpn(&self) -> Option<&[u8]> {
        self.conn.as_ref().ok().and_then(|c| c.alpn_protocol())
    }

    /// The vhost whose certificate was served: the owner of the client's
    /// SNI name, else the listener's first vhost. `None` on client
    /// sessions and until the handshake completed.
    fn vhost(&self) -> Option<&str> {
        let Ok(Connection::Server(s)) = &self.conn else {
            return None;
        };
        let resolver = self.resolver.as_ref()?;
        (!s.is_handshaking()).then(|| resolver.vhost_for(s.server_name()))
    }
}
