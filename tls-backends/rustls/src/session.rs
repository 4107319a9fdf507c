//! A rustls connection behind lws' sans-IO `TlsSession` trait.

use std::io::{self, Read, Write};
use std::sync::Arc;

use lws_core::{TlsError, TlsSession};
use rustls::{ClientConnection, Connection, ServerConnection};

use crate::resolver::SniResolver;

pub(crate) struct Session {
    conn: Option<Connection>,
    resolver: Option<Arc<SniResolver>>,
    peer_closed: bool,
    /// A session that could not be created: fails on first use.
    broken: Option<String>,
}

impl Session {
    fn new(mut conn: Connection, resolver: Option<Arc<SniResolver>>) -> Self {
        // The core bounds buffered output itself (per-connection limit), so
        // rustls may encrypt whatever one write hands it.
        conn.set_buffer_limit(None);
        Session {
            conn: Some(conn),
            resolver,
            peer_closed: false,
            broken: None,
        }
    }

    pub fn server(c: ServerConnection, resolver: Arc<SniResolver>) -> Self {
        Self::new(Connection::Server(c), Some(resolver))
    }

    pub fn client(c: ClientConnection) -> Self {
        Self::new(Connection::Client(c), None)
    }

    pub fn broken(why: String) -> Self {
        Session {
            conn: None,
            resolver: None,
            peer_closed: false,
            broken: Some(why),
        }
    }

    fn conn(&mut self) -> io::Result<&mut Connection> {
        let why = self.broken.clone().unwrap_or_default();
        self.conn.as_mut().ok_or_else(|| io::Error::other(why))
    }
}

fn error_of(e: rustls::Error) -> TlsError {
    match e {
        rustls::Error::InvalidCertificate(_)
        | rustls::Error::NoCertificatesPresented
        | rustls::Error::PeerIncompatible(_)
        | rustls::Error::AlertReceived(_)
        | rustls::Error::NoApplicationProtocol => TlsError::Handshake(e.to_string()),
        other => TlsError::Protocol(other.to_string()),
    }
}

impl TlsSession for Session {
    fn read_tls(&mut self, rd: &mut dyn io::Read) -> io::Result<usize> {
        self.conn()?.read_tls(rd)
    }

    fn process(&mut self) -> Result<(), TlsError> {
        let conn = self.conn().map_err(|e| TlsError::Config(e.to_string()))?;
        let state = conn.process_new_packets().map_err(error_of)?;
        self.peer_closed |= state.peer_has_closed();
        Ok(())
    }

    fn read_plain(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.conn()?.reader().read(buf) {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
            // close_notify already seen: nothing more will come.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
            Err(e) => Err(e),
        }
    }

    fn write_plain(&mut self, data: &[u8]) -> io::Result<()> {
        self.conn()?.writer().write_all(data)
    }

    fn wants_write(&self) -> bool {
        self.conn.as_ref().is_some_and(|c| c.wants_write())
    }

    fn write_tls(&mut self, wr: &mut dyn io::Write) -> io::Result<usize> {
        self.conn()?.write_tls(wr)
    }

    fn is_handshaking(&self) -> bool {
        self.conn.as_ref().is_none_or(|c| c.is_handshaking())
    }

    fn peer_closed(&self) -> bool {
        self.peer_closed
    }

    fn send_close_notify(&mut self) {
        if let Some(c) = self.conn.as_mut() {
            c.send_close_notify();
        }
    }

    fn alpn(&self) -> Option<&[u8]> {
        self.conn.as_ref().and_then(|c| c.alpn_protocol())
    }

    fn vhost(&self) -> Option<&str> {
        let Some(Connection::Server(s)) = &self.conn else {
            return None;
        };
        let sni = s.server_name()?;
        self.resolver.as_ref()?.vhost_for(sni)
    }
}
