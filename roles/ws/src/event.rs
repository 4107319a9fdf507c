//! The user-facing API: configuration, typed events, the handler trait and
//! the protocol object registered on a vhost.

use std::time::Duration;

use lws_core::{ContextEvent, Cx, Origin, Protocol, Role};
use lws_role_http::Request;

use crate::cx::WsCx;
use crate::role::WsRole;

/// WebSocket connection policy.
#[derive(Clone, Debug)]
pub struct WsConfig {
    /// Largest message accepted (after decompression); bigger ones close
    /// the connection with 1009.
    pub max_message: u64,
    /// Deliver messages as `Fragment` events as they arrive instead of
    /// whole `Message` events (for large payloads).
    pub streaming: bool,
    /// Negotiate permessage-deflate when the peer offers it (server) / offer
    /// it (client). Off: the client offers no extension at all, and fails a
    /// server that selects one anyway.
    pub deflate: bool,
    /// No context takeover in either direction: reset our compressor after
    /// every message and ask the peer to do the same (server:
    /// `client_no_context_takeover` in the response; client: both
    /// `*_no_context_takeover` in the offer). Then no zlib state is kept
    /// between messages (an idle connection holds about 0.9 KB instead of
    /// about 420 KiB once it has exchanged compressed messages), for a
    /// worse ratio. Off by default (context takeover, as browsers and most
    /// servers do). Either way zlib state is only allocated at a
    /// connection's first compressed message, not at the handshake.
    pub no_context_takeover: bool,
    /// Largest LZ77 window, in bits (9..=15), both directions: we compress
    /// with at most this and ask the peer to do the same
    /// (`client_max_window_bits` / `server_max_window_bits`, RFC 7692
    /// §7.1.2). Smaller windows use less memory per connection.
    pub max_window_bits: u8,
    /// Send a ping after this long without input; `None`: never.
    pub ping_interval: Option<Duration>,
    /// Close if nothing (no pong) arrives this long after a ping.
    pub pong_timeout: Duration,
    /// How long the closing handshake may take.
    pub close_timeout: Duration,
}

impl WsConfig {
    /// The permessage-deflate policy these settings describe.
    pub(crate) fn deflate_policy(&self) -> crate::proto::deflate::Policy {
        crate::proto::deflate::Policy {
            no_context_takeover: self.no_context_takeover,
            max_window_bits: self.max_window_bits,
        }
    }
}

impl Default for WsConfig {
    fn default() -> Self {
        WsConfig {
            max_message: 16 * 1024 * 1024,
            streaming: false,
            deflate: true,
            no_context_takeover: false,
            max_window_bits: 15,
            ping_interval: None,
            pong_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(5),
        }
    }
}

/// A received message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message<'a> {
    Text(&'a str),
    Binary(&'a [u8]),
}

/// One thing that happened on a WebSocket connection.
#[derive(Debug)]
#[non_exhaustive]
pub enum WsEvent<'a> {
    /// The handshake completed; the connection is open.
    Established,
    /// A whole message (default mode).
    Message(Message<'a>),
    /// A piece of a message (`WsConfig::streaming`); text pieces are
    /// validated UTF-8 so far but may split a character.
    Fragment {
        text: bool,
        data: &'a [u8],
        first: bool,
        last: bool,
    },
    /// Requested with `request_writable`.
    Writable,
    /// A pong arrived (pings are answered automatically).
    Pong(&'a [u8]),
    /// A timer set with `cx.conn().set_timer(after, id)` fired.
    Timer(u64),
    /// Last event. `code` is the peer's close code, or 1006 when the
    /// connection ended without a closing handshake.
    Closed { code: u16, reason: &'a str },
    /// A client connection failed before opening: its host name could not
    /// be resolved ([`ClientError::Dns`](crate::ClientError::Dns)), the
    /// connect or TLS failed, or the handshake was refused or cut short.
    /// With a reconnect policy, only when the policy gives up.
    ConnectError(&'a crate::ClientError),
    /// A client with a reconnect policy
    /// ([`ClientOptions::reconnect`](crate::ClientOptions::reconnect)) failed
    /// to connect or lost its connection, and the policy conceals it: a
    /// new connection (a new token; this session moves to it) is opened
    /// after `after`. `failures` counts consecutive failures. Call
    /// [`WsCx::stop_reconnecting`] to stop here instead.
    Reconnecting { after: Duration, failures: u32 },
    /// The reconnect policy gave up after `failures` consecutive failures
    /// (the last one reported just before, as `ConnectError` or
    /// `Closed`). Last event of this client.
    GaveUp { failures: u32 },
}

/// User code for WebSocket connections.
#[allow(unused_variables)]
pub trait WsHandler: 'static {
    type Session: Default + 'static;

    fn on_event(&mut self, cx: &mut WsCx<'_, '_>, session: &mut Self::Session, event: WsEvent<'_>);

    /// Server side, before accepting an upgrade: return `Err(status)` to
    /// refuse it (e.g. 403 for a bad `Origin`); push extra response headers.
    fn on_handshake(
        &mut self,
        request: &Request,
        extra_headers: &mut Vec<(String, String)>,
    ) -> Result<(), u16> {
        Ok(())
    }

    fn on_context_event(&mut self, cx: &mut Cx<'_>, event: &ContextEvent) {}
}

/// A WebSocket protocol registered on a vhost (by its subprotocol name).
#[derive(Debug)]
pub struct WsProtocol<H> {
    pub(crate) handler: H,
    pub(crate) config: WsConfig,
    /// The subprotocol this protocol speaks; echoed when the client offers it.
    pub(crate) name: Option<String>,
}

impl<H: WsHandler> WsProtocol<H> {
    pub fn new(handler: H) -> Self {
        WsProtocol {
            handler,
            config: WsConfig::default(),
            name: None,
        }
    }

    pub fn config(mut self, config: WsConfig) -> Self {
        self.config = config;
        self
    }

    /// The `Sec-WebSocket-Protocol` name this protocol accepts/offers.
    pub fn subprotocol(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    pub fn handler(&self) -> &H {
        &self.handler
    }

    pub fn handler_mut(&mut self) -> &mut H {
        &mut self.handler
    }
}

impl<H: WsHandler> Protocol for WsProtocol<H> {
    fn new_role(&mut self, origin: Origin) -> Box<dyn Role> {
        Box::new(WsRole::<H>::new(origin))
    }

    fn on_context_event(&mut self, cx: &mut Cx<'_>, event: &ContextEvent) {
        self.handler.on_context_event(cx, event);
    }
}
