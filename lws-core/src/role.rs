//! The role trait: a sans-IO protocol state machine bound to one connection.
//!
//! A role (raw, HTTP/1, WebSocket, ...) turns bytes into typed user events
//! and user writes into bytes. Every method has a default, so a role only
//! implements what it handles. Methods return a [`Disposition`]; the core
//! applies it after the method returns, never in the middle of it, so a role
//! is never swapped or freed while it runs.
//!
//! Roles never touch the socket or the loop: they write through
//! [`ConnCx::write`] and ask for callbacks with
//! [`ConnCx::request_writable`].

use std::any::Any;
use std::io;
use std::net::SocketAddr;

use crate::cx::ConnCx;
use crate::protocol::Protocol;

/// Why a connection closed (or is closing).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// Closed locally on purpose.
    Normal,
    /// The peer closed its side (read returned end of stream).
    PeerClosed,
    /// A socket error (reset, broken pipe, ...).
    Io(io::ErrorKind),
    /// A timeout set with `set_timeout` expired.
    Timeout,
    /// Nothing was received for the vhost's idle timeout.
    IdleTimeout,
    /// More output was queued than the connection's output limit allows.
    OutputOverflow,
    /// The peer violated the protocol; the role says how.
    Protocol(String),
    /// The context is shutting down.
    ContextStopping,
    /// The event loop refused to watch the descriptor.
    WatchFailed(io::ErrorKind),
    /// The TLS layer failed (bad handshake, bad record, ...).
    Tls(String),
}

impl CloseReason {
    /// Whether pending output should still be flushed before closing (and
    /// the role offered a protocol-level close).
    pub fn is_graceful(&self) -> bool {
        matches!(
            self,
            CloseReason::Normal
                | CloseReason::PeerClosed
                | CloseReason::Protocol(_)
                | CloseReason::ContextStopping
        )
    }
}

impl std::fmt::Display for CloseReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CloseReason::Normal => f.write_str("closed locally"),
            CloseReason::PeerClosed => f.write_str("peer closed"),
            CloseReason::Io(k) => write!(f, "socket error: {k}"),
            CloseReason::Timeout => f.write_str("timeout"),
            CloseReason::IdleTimeout => f.write_str("idle timeout"),
            CloseReason::OutputOverflow => f.write_str("output limit exceeded"),
            CloseReason::Protocol(why) => write!(f, "protocol error: {why}"),
            CloseReason::ContextStopping => f.write_str("context stopping"),
            CloseReason::WatchFailed(k) => write!(f, "event loop refused descriptor: {k}"),
            CloseReason::Tls(why) => write!(f, "TLS: {why}"),
        }
    }
}

/// What the core should do with the connection once a role method returns.
#[non_exhaustive]
pub enum Disposition {
    Continue,
    Close(CloseReason),
    /// Replace this connection's role (e.g. HTTP/1 -> WebSocket).
    Transition(Box<dyn Role>),
    /// Re-bind to another protocol of the same vhost by name, creating the
    /// role through that protocol with `carry` (e.g. handshake data and any
    /// bytes already read past it).
    Rebind {
        protocol: String,
        carry: Box<dyn Any>,
    },
    /// Move the connection to another vhost sharing its listener (see
    /// `ConnCx::vhost_for_host`): that vhost's default protocol gets a new
    /// role, which receives its open event and then `replay` as input.
    MoveVhost {
        vhost: String,
        replay: Vec<u8>,
    },
}

impl std::fmt::Debug for Disposition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Disposition::Continue => f.write_str("Continue"),
            Disposition::Close(r) => write!(f, "Close({r:?})"),
            Disposition::Transition(r) => write!(f, "Transition({})", r.name()),
            Disposition::Rebind { protocol, .. } => write!(f, "Rebind({protocol})"),
            Disposition::MoveVhost { vhost, replay } => {
                write!(f, "MoveVhost({vhost}, {} bytes)", replay.len())
            }
        }
    }
}

/// A protocol state machine bound to one connection.
///
/// `proto` is the protocol object this connection is bound to (the one that
/// created the role); roles downcast it with
/// [`downcast_protocol`](crate::downcast_protocol) to reach the user handler.
#[allow(unused_variables)]
pub trait Role: 'static {
    /// Short name for logs ("raw", "http1", "ws").
    fn name(&self) -> &'static str;

    /// The connection is established (accepted, adopted, connected or
    /// upgraded to this role).
    fn on_open(&mut self, cx: &mut ConnCx<'_>, proto: &mut dyn Protocol) -> Disposition {
        Disposition::Continue
    }

    /// Bytes arrived.
    fn on_rx(&mut self, cx: &mut ConnCx<'_>, proto: &mut dyn Protocol, data: &[u8]) -> Disposition;

    /// A datagram arrived on an adopted UDP socket.
    fn on_datagram(
        &mut self,
        cx: &mut ConnCx<'_>,
        proto: &mut dyn Protocol,
        data: &[u8],
        from: SocketAddr,
    ) -> Disposition {
        self.on_rx(cx, proto, data)
    }

    /// The connection can take more output, and all earlier output has been
    /// flushed. Delivered once per [`ConnCx::request_writable`].
    fn on_writable(&mut self, cx: &mut ConnCx<'_>, proto: &mut dyn Protocol) -> Disposition {
        Disposition::Continue
    }

    /// A timer set with [`ConnCx::set_timer`] fired.
    fn on_timer(&mut self, cx: &mut ConnCx<'_>, proto: &mut dyn Protocol, id: u64) -> Disposition {
        Disposition::Continue
    }

    /// The timeout set with [`ConnCx::set_timeout`] expired.
    fn on_timeout(&mut self, cx: &mut ConnCx<'_>, proto: &mut dyn Protocol) -> Disposition {
        Disposition::Close(CloseReason::Timeout)
    }

    /// A client connection could not be established. The connection is
    /// freed afterwards without `on_close`.
    fn on_connect_error(&mut self, cx: &mut ConnCx<'_>, proto: &mut dyn Protocol, err: &io::Error) {
    }

    /// The core is about to close for `reason`. Return `true` if the role
    /// started a protocol-level close (e.g. a WebSocket close frame) and
    /// will return [`Disposition::Close`] itself when it completes; the core
    /// then waits up to the vhost's close timeout.
    fn close_via_protocol(
        &mut self,
        cx: &mut ConnCx<'_>,
        proto: &mut dyn Protocol,
        reason: &CloseReason,
    ) -> bool {
        false
    }

    /// The connection is closed; last call. Writes are refused.
    fn on_close(&mut self, cx: &mut ConnCx<'_>, proto: &mut dyn Protocol, reason: &CloseReason) {}

    /// The role holds input it has not processed yet (e.g. decrypted TLS
    /// records) that no descriptor event will announce.
    fn wants_forced_service(&self) -> bool {
        false
    }
}
