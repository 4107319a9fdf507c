//! One question on the wire: its tries across nameservers, the UDP then
//! (when truncated) TCP exchange of each try, and which responses count.
//!
//! Tries go round the servers `attempts` times (resolv.conf(5)), starting
//! at the first server or, with `rotate`, at the next one each query; each
//! try has its own random id, a fresh socket and a random source port, and
//! waits `timeout`. A response counts only if it comes from the server of
//! the current try, on the current socket, with the current id, as a
//! response to the same question; anything else is ignored (RFC 5452 §9.1).
//! SERVFAIL, REFUSED and other error codes move to the next try; TC=1
//! repeats the try over TCP with a 2-byte length prefix (RFC 1035 §4.2.2,
//! RFC 7766). This module must not know about lookups, search lists or the
//! cache.

use super::answer::{self, Outcome};
use super::{LookupId, Proto, SocketKey, Transmit};
use crate::DnsError;
use crate::proto::{CLASS_IN, Header, Message, Name, RType, Rcode, encode_query};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The servers, the retry policy, the randomness and the output queues
/// shared by all queries.
#[derive(Debug)]
pub struct Transport {
    pub servers: Vec<SocketAddr>,
    pub timeout: Duration,
    pub attempts: u8,
    pub rotate: bool,
    pub max_chain: u8,
    pub rng: fastrand::Rng,
    pub transmits: VecDeque<Transmit>,
    pub closes: VecDeque<SocketKey>,
    next_start: usize,
    next_socket: u64,
}

impl Transport {
    pub fn new(
        servers: Vec<SocketAddr>,
        timeout: Duration,
        attempts: u8,
        rng: fastrand::Rng,
    ) -> Self {
        Transport {
            servers,
            timeout,
            attempts: attempts.max(1),
            rotate: false,
            max_chain: 8,
            rng,
            transmits: VecDeque::new(),
            closes: VecDeque::new(),
            next_start: 0,
            next_socket: 0,
        }
    }

    fn tries(&self) -> usize {
        self.servers.len() * usize::from(self.attempts)
    }

    fn first_server(&mut self) -> usize {
        let start = self.next_start;
        if self.rotate && !self.servers.is_empty() {
            self.next_start = (self.next_start + 1) % self.servers.len();
        }
        start
    }

    fn send(&mut self, q: &mut Query, proto: Proto, now: Instant) {
        self.next_socket += 1;
        q.socket = SocketKey(self.next_socket);
        q.id = self.rng.u16(..);
        q.proto = proto;
        q.tcp_buf.clear();
        q.deadline = now + self.timeout;
        let mut bytes = Vec::with_capacity(64);
        if proto == Proto::Tcp {
            bytes.extend_from_slice(&[0, 0]);
        }
        encode_query(q.id, &q.name, q.qtype, &mut bytes);
        if proto == Proto::Tcp {
            let len = (bytes.len() - 2) as u16;
            bytes[..2].copy_from_slice(&len.to_be_bytes());
        }
        let local_port = match proto {
            Proto::Udp => self.rng.u16(1024..),
            Proto::Tcp => 0,
        };
        self.transmits.push_back(Transmit {
            socket: q.socket,
            server: q.server,
            proto,
            local_port,
            bytes,
        });
    }
}

/// Where a query stands after an input.
#[allow(
    clippy::large_enum_variant,
    reason = "returned once per input, never stored"
)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Still waiting for an answer.
    Waiting,
    /// Finished; the socket is already queued for closing.
    Done(Result<Outcome, DnsError>),
}

/// One (name, type) question in flight.
#[derive(Debug)]
pub struct Query {
    pub name: Name,
    pub qtype: RType,
    pub socket: SocketKey,
    pub deadline: Instant,
    pub waiters: Vec<LookupId>,
    id: u16,
    proto: Proto,
    server: SocketAddr,
    start: usize,
    tries_done: usize,
    tcp_buf: Vec<u8>,
    last_error: Option<DnsError>,
}

impl Query {
    /// Starts the first try over UDP. `t` must have at least one server.
    pub fn start(name: Name, qtype: RType, t: &mut Transport, now: Instant) -> Self {
        let start = t.first_server();
        let server = t.servers[start % t.servers.len()];
        let mut q = Query {
            name,
            qtype,
            socket: SocketKey(0),
            deadline: now,
            waiters: Vec::new(),
            id: 0,
            proto: Proto::Udp,
            server,
            start,
            tries_done: 0,
            tcp_buf: Vec::new(),
            last_error: None,
        };
        t.send(&mut q, Proto::Udp, now);
        q
    }

    /// The current try ran out of time or its socket failed: next try.
    pub fn next_try(&mut self, t: &mut Transport, now: Instant) -> Progress {
        t.closes.push_back(self.socket);
        self.tries_done += 1;
        if self.tries_done >= t.tries() {
            return Progress::Done(Err(self.last_error.take().unwrap_or(DnsError::Timeout)));
        }
        self.server = t.servers[(self.start + self.tries_done) % t.servers.len()];
        t.send(self, Proto::Udp, now);
        Progress::Waiting
    }

    /// A datagram arrived on this query's socket.
    pub fn on_udp(
        &mut self,
        t: &mut Transport,
        from: SocketAddr,
        bytes: &[u8],
        now: Instant,
    ) -> Progress {
        if self.proto != Proto::Udp || from != self.server {
            return Progress::Waiting;
        }
        self.on_message(t, bytes, now)
    }

    /// Stream bytes arrived on this query's TCP connection.
    pub fn on_tcp(&mut self, t: &mut Transport, bytes: &[u8], now: Instant) -> Progress {
        if self.proto != Proto::Tcp {
            return Progress::Waiting;
        }
        let room = (2 + usize::from(u16::MAX)).saturating_sub(self.tcp_buf.len());
        self.tcp_buf
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
        let Some(len) = self
            .tcp_buf
            .get(..2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        else {
            return Progress::Waiting;
        };
        if self.tcp_buf.len() < 2 + len {
            return Progress::Waiting;
        }
        let frame = std::mem::take(&mut self.tcp_buf);
        match self.on_message(t, &frame[2..2 + len], now) {
            // A stream cannot skip a bad frame: the try is over.
            Progress::Waiting if self.proto == Proto::Tcp => self.next_try(t, now),
            p => p,
        }
    }

    fn on_message(&mut self, t: &mut Transport, bytes: &[u8], now: Instant) -> Progress {
        let msg = match Message::parse(bytes) {
            Ok(msg) => msg,
            Err(e) => {
                if Header::parse(bytes).is_ok_and(|h| h.id == self.id) {
                    self.last_error = Some(DnsError::Malformed(e));
                }
                return Progress::Waiting;
            }
        };
        if !self.answers(&msg) {
            return Progress::Waiting;
        }
        if msg.header.tc && self.proto == Proto::Udp {
            t.closes.push_back(self.socket);
            t.send(self, Proto::Tcp, now);
            return Progress::Waiting;
        }
        match msg.header.rcode {
            Rcode::NoError | Rcode::NxDomain if !msg.header.tc => self.finish(t, &msg),
            Rcode::Refused => self.fail(t, DnsError::Refused, now),
            _ => self.fail(t, DnsError::ServFail, now),
        }
    }

    fn answers(&self, msg: &Message<'_>) -> bool {
        let h = &msg.header;
        let asked = |q: &crate::proto::Question| {
            q.name == self.name && q.qtype == self.qtype && q.qclass == CLASS_IN
        };
        h.qr && h.opcode == 0
            && h.id == self.id
            && h.qdcount == 1
            && msg.question.as_ref().is_some_and(asked)
    }

    fn finish(&mut self, t: &mut Transport, msg: &Message<'_>) -> Progress {
        t.closes.push_back(self.socket);
        Progress::Done(answer::outcome(msg, &self.name, self.qtype, t.max_chain))
    }

    fn fail(&mut self, t: &mut Transport, error: DnsError, now: Instant) -> Progress {
        self.last_error = Some(error);
        self.next_try(t, now)
    }
}
