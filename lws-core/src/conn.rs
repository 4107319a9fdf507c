//! One connection slot: its descriptor, bookkeeping and pending output.
//!
//! Connection state is split in two so the core can lend both at once: the
//! [`Role`] (the protocol state machine) and [`ConnIo`] (everything the role
//! may touch through its `ConnCx`). This module implements the write path and
//! output flow control; it never dispatches events.

use std::io;
use std::time::Instant;

use crate::error::Error;
use crate::out_buf::OutBuf;
use crate::role::{CloseReason, Role};
use crate::scheduler::TimerId;
use crate::socket::Socket;
use crate::tls::TlsSession;
use crate::token::Interest;

/// Life cycle of a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ConnState {
    /// A listening socket.
    Listening,
    /// The context's waker.
    Waker,
    /// Client connection to a host name with no descriptor yet: its name
    /// is being resolved and/or its connection attempts are racing (RFC
    /// 8305), each in an `Attempt` slot of its own; see [`Dial`].
    Dialing,
    /// One connection attempt of the client connection `0` (a slot with
    /// the inert role, never seen by user code). The first attempt to
    /// connect hands its descriptor to that connection.
    Attempt(crate::token::ConnKey),
    /// One of the resolver's own UDP or TCP sockets (not a user connection).
    Dns(lws_dns::SocketKey, lws_dns::Proto),
    /// Client connect in progress.
    Connecting,
    /// TLS handshake in progress (server or client); the role has not
    /// been opened yet.
    TlsHandshake,
    Open,
    /// The role is running a protocol-level close handshake.
    ClosingViaProtocol(CloseReason),
    /// Waiting for pending output to flush, then close.
    Draining(CloseReason),
    /// Finalised; only seen by `on_close`.
    Closed,
}

pub(crate) struct Conn {
    pub role: Box<dyn Role>,
    pub io: ConnIo,
}

/// The part of a connection the role reaches through `ConnCx`.
pub(crate) struct ConnIo {
    pub socket: Socket,
    pub vhost: u16,
    pub protocol: u16,
    pub state: ConnState,
    /// What the loop currently watches, `None` before the first `Watch`.
    pub registered: Option<Interest>,
    pub want_writable: bool,
    /// The last write or flush did not hit `WouldBlock`: a requested
    /// writable can be delivered without asking the loop (saves two
    /// watcher changes per request/response exchange).
    pub maybe_writable: bool,
    /// Queued in the context's list of writables to deliver directly.
    pub queued_writable: bool,
    pub rx_paused: bool,
    pub out: OutBuf,
    pub out_limit: usize,
    /// Close requested from inside a callback; applied after it returns.
    pub close_req: Option<CloseReason>,
    pub timeout: Option<TimerId>,
    pub idle: Option<TimerId>,
    pub last_rx: Instant,
    /// The TLS session between socket and role, if any.
    pub tls: Option<Box<dyn TlsSession>>,
    /// Decrypted input is waiting in the TLS session (rx was paused).
    pub tls_pending: bool,
    /// A client connection (errors before open are connect errors).
    pub client: bool,
    /// The listener group it was accepted on (for Host-based vhost moves).
    pub group: Option<u16>,
    /// A client connection to a resolved name: what the next address needs.
    pub dial: Option<Box<Dial>>,
}

/// What a client connection to a host name keeps while `Dialing`.
#[derive(Debug)]
pub(crate) struct Dial {
    pub port: u16,
    /// The connect timeout, per attempt.
    pub timeout: std::time::Duration,
    /// The resolver's lookup, until its whole answer is in.
    pub lookup: Option<lws_dns::LookupId>,
    /// Which address to try next, and when.
    pub race: crate::eyeballs::Race,
    /// The `Attempt` slots in flight.
    pub attempts: Vec<crate::token::ConnKey>,
    /// The race's pending timer (Resolution or Connection Attempt Delay).
    pub timer: Option<TimerId>,
}

impl std::fmt::Debug for ConnIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnIo")
            .field("fd", &self.socket.fd())
            .field("state", &self.state)
            .field("tls", &self.tls.is_some())
            .field("pending_out", &self.out.len())
            .finish_non_exhaustive()
    }
}

impl ConnIo {
    pub fn new(socket: Socket, vhost: u16, protocol: u16, state: ConnState, now: Instant) -> Self {
        ConnIo {
            socket,
            vhost,
            protocol,
            state,
            registered: None,
            want_writable: false,
            maybe_writable: true,
            queued_writable: false,
            rx_paused: false,
            out: OutBuf::default(),
            out_limit: usize::MAX,
            close_req: None,
            timeout: None,
            idle: None,
            last_rx: now,
            tls: None,
            tls_pending: false,
            client: false,
            group: None,
            dial: None,
        }
    }

    /// Whether user/role writes are accepted.
    pub fn writes_allowed(&self) -> bool {
        matches!(
            self.state,
            ConnState::Open | ConnState::ClosingViaProtocol(_) | ConnState::Draining(_)
        )
    }

    /// The interest the loop should have for this connection now.
    pub fn desired_interest(&self) -> Interest {
        match &self.state {
            ConnState::Listening => Interest {
                readable: !self.rx_paused,
                writable: false,
            },
            ConnState::Waker => Interest::READABLE,
            ConnState::Dialing => Interest::NONE,
            ConnState::Attempt(_) => Interest::WRITABLE,
            ConnState::Dns(..) => Interest {
                readable: true,
                writable: !self.out.is_empty(),
            },
            ConnState::Connecting => Interest::WRITABLE,
            ConnState::TlsHandshake => Interest {
                readable: true,
                writable: !self.out.is_empty(),
            },
            ConnState::Open | ConnState::ClosingViaProtocol(_) => Interest {
                readable: !self.rx_paused,
                writable: (self.want_writable && !self.maybe_writable) || !self.out.is_empty(),
            },
            // Keep reading while draining so a reset is noticed; input is dropped.
            ConnState::Draining(_) => Interest::BOTH,
            ConnState::Closed => Interest::NONE,
        }
    }

    /// Write `data`, buffering what the socket does not take.
    ///
    /// Flow control follows libwebsockets: one write made while nothing is
    /// pending is always accepted whole (the remainder is buffered); further
    /// writes while output is pending are accepted only up to `out_limit`
    /// bytes in total, otherwise refused with [`Error::OutputLimit`] and
    /// nothing is written, so the stream stays intact.
    pub fn write(&mut self, data: &[u8]) -> Result<(), Error> {
        if !self.writes_allowed() {
            return Err(Error::Closed);
        }
        let pending = self.out.len();
        if pending > 0 && pending.saturating_add(data.len()) > self.out_limit {
            return Err(Error::OutputLimit {
                pending,
                attempted: data.len(),
                limit: self.out_limit,
            });
        }
        if let Some(tls) = self.tls.as_mut() {
            if let Err(e) = tls.write_plain(data) {
                self.close_req.get_or_insert(CloseReason::Io(e.kind()));
                return Err(Error::Io(e));
            }
            return self.pump_tls();
        }
        self.write_bytes(data)
    }

    /// Write several buffers as one stream write (e.g. a frame header and
    /// a payload that lives elsewhere), with the same flow-control rules as
    /// [`ConnIo::write`]; saves copying them together first.
    pub fn write_parts(&mut self, parts: &[&[u8]]) -> Result<(), Error> {
        if !self.writes_allowed() {
            return Err(Error::Closed);
        }
        let total: usize = parts.iter().map(|p| p.len()).sum();
        let pending = self.out.len();
        if pending > 0 && pending.saturating_add(total) > self.out_limit {
            return Err(Error::OutputLimit {
                pending,
                attempted: total,
                limit: self.out_limit,
            });
        }
        if let Some(tls) = self.tls.as_mut() {
            for p in parts {
                if let Err(e) = tls.write_plain(p) {
                    self.close_req.get_or_insert(CloseReason::Io(e.kind()));
                    return Err(Error::Io(e));
                }
            }
            return self.pump_tls();
        }
        if pending > 0 {
            parts.iter().for_each(|p| self.out.push(p));
            return Ok(());
        }
        let sent = match self.write_parts_now(parts, total) {
            Ok(n) => n,
            Err(e) => {
                self.close_req.get_or_insert(CloseReason::Io(e.kind()));
                return Err(Error::Io(e));
            }
        };
        self.maybe_writable = sent == total;
        let mut skip = sent;
        for p in parts {
            let from = skip.min(p.len());
            skip -= from;
            self.out.push(&p[from..]);
        }
        Ok(())
    }

    fn write_parts_now(&mut self, parts: &[&[u8]], total: usize) -> io::Result<usize> {
        let mut sent = 0;
        while sent < total {
            let mut skip = sent;
            let slices: Vec<io::IoSlice<'_>> = parts
                .iter()
                .filter_map(|p| {
                    let from = skip.min(p.len());
                    skip -= from;
                    (from < p.len()).then(|| io::IoSlice::new(&p[from..]))
                })
                .collect();
            match self.socket.write_vectored(&slices) {
                Ok(0) => break,
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(sent)
    }

    /// Move ciphertext the TLS session produced to the socket, buffering
    /// what it does not take. A no-op without TLS.
    pub fn pump_tls(&mut self) -> Result<(), Error> {
        let Some(tls) = self.tls.as_mut() else {
            return Ok(());
        };
        let mut result = Ok(());
        if self.out.is_empty() {
            // Straight from the session's buffer to the socket.
            while tls.wants_write() {
                match tls.write_tls(&mut SocketWriter(&mut self.socket)) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
            }
        }
        while tls.wants_write() {
            // The socket is full: keep the rest in order behind what is pending.
            if tls.write_tls(&mut self.out).is_err() {
                break;
            }
        }
        self.maybe_writable = self.out.is_empty();
        result.map_err(|e| {
            self.close_req.get_or_insert(CloseReason::Io(e.kind()));
            Error::Io(e)
        })
    }

    /// Write plaintext-level bytes (or ciphertext) to the socket, buffering
    /// the remainder behind anything already pending.
    fn write_bytes(&mut self, data: &[u8]) -> Result<(), Error> {
        if !self.out.is_empty() {
            self.out.push(data);
            return Ok(());
        }
        let sent = match self.write_now(data) {
            Ok(n) => n,
            Err(e) => {
                self.close_req.get_or_insert(CloseReason::Io(e.kind()));
                return Err(Error::Io(e));
            }
        };
        self.maybe_writable = sent == data.len();
        if sent < data.len() {
            self.out.push(&data[sent..]);
        }
        Ok(())
    }

    /// Write as much of `data` as the socket takes without blocking.
    fn write_now(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut sent = 0;
        while sent < data.len() {
            match self.socket.write(&data[sent..]) {
                Ok(0) => break,
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(sent)
    }

    /// Push pending output to the socket. `Ok(true)` when all of it went.
    pub fn flush(&mut self) -> io::Result<bool> {
        if self.out.is_empty() {
            return Ok(true);
        }
        let mut sent = 0;
        let pending = self.out.len();
        while sent < pending {
            match self.socket.write(&self.out.pending()[sent..]) {
                Ok(0) => break,
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        self.out.consume(sent);
        self.maybe_writable = self.out.is_empty();
        Ok(self.out.is_empty())
    }

    /// The ALPN protocol negotiated by TLS, if any.
    pub fn alpn(&self) -> Option<&[u8]> {
        self.tls.as_ref().and_then(|t| t.alpn())
    }

    /// Send one datagram on an adopted UDP socket. Datagrams are never
    /// buffered: a full socket buffer drops them, as UDP would.
    pub fn send_to(&mut self, data: &[u8], to: std::net::SocketAddr) -> Result<(), Error> {
        if !self.writes_allowed() {
            return Err(Error::Closed);
        }
        match &self.socket {
            Socket::Udp(s) => match s.send_to(data, to) {
                Ok(_) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(Error::Io(e)),
                Err(e) => Err(Error::Io(e)),
            },
            _ => Err(Error::Unsupported("send_to")),
        }
    }
}

/// `io::Write` over a connection's socket, for TLS sessions.
pub(crate) struct SocketWriter<'a>(pub &'a mut Socket);

impl io::Write for SocketWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `io::Read` over a connection's socket, for TLS sessions.
pub(crate) struct SocketReader<'a>(pub &'a mut Socket);

impl io::Read for SocketReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixStream;

    fn pair() -> (ConnIo, UnixStream) {
        let (a, b) = UnixStream::pair().expect("pair");
        a.set_nonblocking(true).expect("nb");
        let mut io = ConnIo::new(Socket::Unix(a), 0, 0, ConnState::Open, Instant::now());
        io.out_limit = 64 * 1024;
        (io, b)
    }

    /// Fill the socket buffer so further writes are queued.
    fn fill(io: &mut ConnIo) {
        let chunk = vec![0u8; 64 * 1024];
        while io.out.is_empty() {
            io.write(&chunk).expect("first write is always accepted");
        }
    }

    #[test]
    fn first_write_is_always_accepted_whole() {
        let (mut io, _peer) = pair();
        fill(&mut io);
        assert!(!io.out.is_empty());
    }

    #[test]
    fn write_over_limit_while_pending_is_refused_and_nothing_is_queued() {
        let (mut io, _peer) = pair();
        fill(&mut io);
        let before = io.out.len();
        let big = vec![1u8; io.out_limit];
        assert!(matches!(io.write(&big), Err(Error::OutputLimit { .. })));
        assert_eq!(io.out.len(), before);
        assert!(
            io.close_req.is_none(),
            "refusal must not close the connection"
        );
    }

    #[test]
    fn flush_preserves_order() {
        use std::io::Read;
        let (mut io, mut peer) = pair();
        fill(&mut io);
        let queued = io.out.len();
        let _ = io.write(b"tail");
        let mut got = Vec::new();
        let mut buf = vec![0u8; 256 * 1024];
        peer.set_nonblocking(true).expect("nb");
        loop {
            let done = io.flush().expect("flush");
            while let Ok(n) = peer.read(&mut buf) {
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            if done {
                break;
            }
        }
        assert!(got.len() >= queued + 4);
        assert_eq!(&got[got.len() - 4..], b"tail");
    }

    #[test]
    fn write_to_closed_peer_requests_close() {
        let (mut io, peer) = pair();
        drop(peer);
        let r = io.write(b"x");
        assert!(r.is_err());
        assert!(matches!(io.close_req, Some(CloseReason::Io(_))));
    }
}
