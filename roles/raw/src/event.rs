//! The typed events a raw handler receives.

use std::io;
use std::net::SocketAddr;

use lws_core::CloseReason;

/// How a raw connection came to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenKind {
    Accepted,
    Adopted,
    Connected,
}

/// One thing that happened on a raw connection.
#[derive(Debug)]
#[non_exhaustive]
pub enum RawEvent<'a> {
    /// The connection is usable. First event of every connection.
    Opened(OpenKind),
    /// Bytes arrived (stream sockets, pipes, ttys).
    Rx(&'a [u8]),
    /// A datagram arrived (adopted UDP sockets).
    Datagram { data: &'a [u8], from: SocketAddr },
    /// Requested with `request_writable`: earlier output is flushed and the
    /// socket takes more.
    Writable,
    /// A timer set with `set_timer` fired.
    Timer(u64),
    /// A client connection failed; no other event follows.
    ConnectError(&'a io::Error),
    /// Last event: the connection is closed.
    Closed(&'a CloseReason),
}
