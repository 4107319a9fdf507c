//! The handles user and role code act through during a callback.
//!
//! [`Cx`] reaches the whole context; [`ConnCx`] adds the connection the
//! callback is about. Everything that would change another connection or the
//! context's structure (close another connection, open or adopt one, stop)
//! is queued as an [`Op`] and applied by the core after the callback returns,
//! so no callback can free something a caller up the stack still uses.
//! Writes to the *current* connection go straight to its socket, as
//! `lws_write` does.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::conn::ConnIo;
use crate::error::Error;
use crate::role::CloseReason;
use crate::scheduler::{Scheduler, TimerId};
use crate::socket::{Adopt, Connect};
use crate::token::{ConnKey, Token};

/// A change queued during a callback.
#[derive(Debug)]
pub(crate) enum Op {
    RequestWritable(Token),
    Close(Token, CloseReason),
    WritableAll {
        vhost: u16,
        protocol: u16,
    },
    Connect {
        connect: Connect,
        origin: Option<(u16, u16)>,
    },
    Adopt(Adopt),
    Lookup {
        name: String,
        id: u64,
        vhost: u16,
        protocol: u16,
    },
    Stop,
}

/// What a scheduler entry does when it fires.
pub(crate) enum TimerEntry {
    /// The connection's `set_timeout` expired.
    Timeout(ConnKey),
    /// Check the connection against its vhost's idle timeout.
    Idle(ConnKey),
    /// A user timer on a connection.
    ConnTimer(ConnKey, u64),
    /// A protocol-level user timer.
    ProtocolTimer { vhost: u16, protocol: u16, id: u64 },
    /// A closure to run, as the vhost and protocol that scheduled it.
    Callback(Box<dyn FnOnce(&mut Cx<'_>)>, Option<(u16, u16)>),
    /// A dialing connection's Happy Eyeballs timer.
    Race(ConnKey),
    /// Re-enable a listener paused after running out of descriptors.
    ResumeListener(ConnKey),
    /// Graceful stop ran out of time: close whatever is left.
    StopGrace,
}

/// The context, as seen from inside a callback.
pub struct Cx<'a> {
    pub(crate) ops: &'a mut Vec<Op>,
    pub(crate) sched: &'a mut Scheduler<TimerEntry>,
    pub(crate) now: Instant,
    /// Vhost and protocol of the callback, when it is about one.
    pub(crate) origin: Option<(u16, u16)>,
}

impl std::fmt::Debug for Cx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cx")
            .field("now", &self.now)
            .field("origin", &self.origin)
            .finish()
    }
}

impl<'a> Cx<'a> {
    /// The time the current dispatch started.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Ask for one `Writable` event on `token` (ignored if it has closed).
    pub fn request_writable(&mut self, token: Token) {
        self.ops.push(Op::RequestWritable(token));
    }

    /// Ask for a `Writable` event on every connection bound to the protocol
    /// this callback belongs to (`lws_callback_on_writable_all_protocol`).
    pub fn request_writable_all(&mut self) {
        if let Some((vhost, protocol)) = self.origin {
            self.ops.push(Op::WritableAll { vhost, protocol });
        }
    }

    /// Close another connection (after this callback returns).
    pub fn close(&mut self, token: Token, reason: CloseReason) {
        self.ops.push(Op::Close(token, reason));
    }

    /// Open a client connection. Unless `connect` names them, it binds to
    /// this callback's vhost and protocol. Errors arrive as the role's
    /// connect-error event.
    pub fn connect(&mut self, connect: Connect) {
        self.ops.push(Op::Connect {
            connect,
            origin: self.origin,
        });
    }

    /// Adopt a descriptor (after this callback returns).
    pub fn adopt(&mut self, adopt: Adopt) {
        self.ops.push(Op::Adopt(adopt));
    }

    /// Resolve `name` (asynchronously, with the context's resolver): the
    /// result comes to this callback's protocol as
    /// [`ContextEvent::Lookup`](crate::ContextEvent::Lookup) carrying `id`.
    /// Returns `false` (and does nothing) when the callback belongs to no
    /// protocol (from outside callbacks, use
    /// [`Context::lookup`](crate::Context::lookup)). A lookup pending when
    /// the context stops is dropped.
    pub fn lookup(&mut self, name: impl Into<String>, id: u64) -> bool {
        let Some((vhost, protocol)) = self.origin else {
            return false;
        };
        self.ops.push(Op::Lookup {
            name: name.into(),
            id,
            vhost,
            protocol,
        });
        true
    }

    /// Begin a graceful shutdown of the whole context.
    pub fn stop(&mut self) {
        self.ops.push(Op::Stop);
    }

    /// Run `f` once, `after` from now. Its `Cx` belongs to the same vhost
    /// and protocol as this one (if any), so what it opens or looks up is
    /// bound to them, as from this callback.
    pub fn schedule(&mut self, after: Duration, f: impl FnOnce(&mut Cx<'_>) + 'static) -> TimerId {
        let entry = TimerEntry::Callback(Box::new(f), self.origin);
        self.sched.insert(self.now + after, entry)
    }

    /// Deliver `ContextEvent::Timer(id)` to this callback's protocol after
    /// `after`. `None` when the callback belongs to no protocol.
    pub fn set_protocol_timer(&mut self, after: Duration, id: u64) -> Option<TimerId> {
        let (vhost, protocol) = self.origin?;
        Some(self.sched.insert(
            self.now + after,
            TimerEntry::ProtocolTimer {
                vhost,
                protocol,
                id,
            },
        ))
    }

    /// Cancel a timer or scheduled closure; a no-op if it already fired.
    pub fn cancel_timer(&mut self, id: TimerId) {
        self.sched.cancel(id);
    }
}

/// One connection, as seen from inside its own callback.
pub struct ConnCx<'a> {
    pub(crate) cx: Cx<'a>,
    pub(crate) io: &'a mut ConnIo,
    pub(crate) token: Token,
    pub(crate) hosts: &'a crate::vhost::HostTable,
}

impl std::fmt::Debug for ConnCx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnCx")
            .field("token", &self.token)
            .field("io", &self.io)
            .finish()
    }
}

impl<'a> ConnCx<'a> {
    /// This connection's token.
    pub fn token(&self) -> Token {
        self.token
    }

    /// Context-wide operations.
    pub fn cx(&mut self) -> &mut Cx<'a> {
        &mut self.cx
    }

    pub fn now(&self) -> Instant {
        self.cx.now
    }

    /// Write bytes; see the flow-control rules on [`Error::OutputLimit`].
    /// A socket error closes the connection after the callback returns.
    pub fn write(&mut self, data: &[u8]) -> Result<(), Error> {
        self.io.write(data)
    }

    /// Write several buffers as one (e.g. a header and a payload held
    /// elsewhere) without copying them together; same rules as `write`.
    pub fn write_parts(&mut self, parts: &[&[u8]]) -> Result<(), Error> {
        self.io.write_parts(parts)
    }

    /// Send a datagram (adopted UDP sockets only).
    pub fn send_to(&mut self, data: &[u8], to: SocketAddr) -> Result<(), Error> {
        self.io.send_to(data, to)
    }

    /// Ask for one writable callback, delivered once earlier output is
    /// flushed and the socket can take more.
    pub fn request_writable(&mut self) {
        self.io.want_writable = true;
    }

    /// Close this connection once the callback returns. Pending output is
    /// flushed first for graceful reasons.
    pub fn close(&mut self, reason: CloseReason) {
        self.io.close_req.get_or_insert(reason);
    }

    /// Whether a close has been requested or is in progress.
    pub fn is_closing(&self) -> bool {
        self.io.close_req.is_some() || !matches!(self.io.state, crate::conn::ConnState::Open)
    }

    /// Stop (or resume) reading from this connection: back-pressure.
    pub fn pause_rx(&mut self, paused: bool) {
        self.io.rx_paused = paused;
    }

    /// Set (`Some`) or clear (`None`) this connection's single timeout;
    /// when it expires the role's `on_timeout` runs (by default: close).
    pub fn set_timeout(&mut self, after: Option<Duration>) {
        if let Some(old) = self.io.timeout.take() {
            self.cx.sched.cancel(old);
        }
        if let Some(d) = after {
            let entry = crate::cx::TimerEntry::Timeout(self.token.key());
            self.io.timeout = Some(self.cx.sched.insert(self.cx.now + d, entry));
        }
    }

    /// Deliver a timer event with `id` to this connection after `after`.
    /// Timers of a closed connection are silently dropped.
    pub fn set_timer(&mut self, after: Duration, id: u64) -> TimerId {
        let entry = TimerEntry::ConnTimer(self.token.key(), id);
        self.cx.sched.insert(self.cx.now + after, entry)
    }

    pub fn cancel_timer(&mut self, id: TimerId) {
        self.cx.sched.cancel(id);
    }

    /// Bytes written but not yet taken by the socket.
    pub fn pending_output(&self) -> usize {
        self.io.out.len()
    }

    /// Cap on buffered output for this connection (see [`Error::OutputLimit`]).
    pub fn set_output_limit(&mut self, bytes: usize) {
        self.io.out_limit = bytes;
    }

    /// The ALPN protocol agreed during the TLS handshake, if any.
    pub fn alpn(&self) -> Option<&[u8]> {
        self.io.alpn()
    }

    /// Whether this connection runs over TLS.
    pub fn is_tls(&self) -> bool {
        self.io.tls.is_some()
    }

    /// The name of another vhost sharing this connection's listener that
    /// serves `host` (an HTTP `Host` value; the port is ignored), if any.
    /// A role can then move the connection there with
    /// [`Disposition::MoveVhost`](crate::Disposition::MoveVhost).
    pub fn vhost_for_host(&self, host: &str) -> Option<&str> {
        let group = self.io.group?;
        self.hosts.lookup(group, self.io.vhost, host)
    }

    /// Whether this connection's vhost has a protocol called `name` (for
    /// roles that hand over to another protocol, e.g. a WebSocket upgrade).
    pub fn vhost_has_protocol(&self, name: &str) -> bool {
        self.hosts.has_protocol(self.io.vhost, name)
    }

    /// The peer's address, for TCP and connected UDP sockets.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.io.socket.peer_addr()
    }
}
