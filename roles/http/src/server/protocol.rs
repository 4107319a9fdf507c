//! The user-facing side of the HTTP server (both versions): typed
//! events, the handler trait, and the protocol object registered on a
//! vhost (handler, config, opened mounts).
//!
//! The unit a handler sees is the *exchange*: one request and its
//! response, an HTTP/1 request on a connection or an HTTP/2 stream. Its
//! events run `Request`, `Body`*, `BodyEnd`, `Writable`*, `Closed`, and
//! its state ([`HttpHandler::Exchange`]) lives exactly that long, with the
//! same meaning on both versions.

use lws_core::{CloseReason, ContextEvent, Cx, Origin, Protocol, Role};

use crate::server::beneath::MountDir;
use crate::server::config::{Mount, ServerConfig};
use crate::server::exchange::HttpCx;
use crate::server::request::Request;
use crate::server::role::ServerRole;

/// One thing that happened in an exchange (a request and its response).
#[derive(Debug)]
#[non_exhaustive]
pub enum HttpEvent<'a> {
    /// A request head arrived: the first event of an exchange, with fresh
    /// exchange state. Respond now, or after its body.
    Request(&'a Request),
    /// Part of the request body (already de-chunked).
    Body(&'a [u8]),
    /// The request body is complete (also sent for requests without one).
    BodyEnd,
    /// Requested with `request_writable`: continue a streamed response.
    Writable,
    /// The exchange is over; its last event, after which its state is
    /// dropped. `Normal` once the response was sent and the request read
    /// (or the request was handed to another protocol by
    /// [`HttpCx::upgrade`]); otherwise why it was cut short: the
    /// connection closed, or on HTTP/2 the stream was reset.
    Closed(&'a CloseReason),
}

/// An event as a role raises it, before the request it concerns (which
/// the role owns) is attached; shared by the HTTP/1 and HTTP/2 roles.
pub(crate) enum Ev<'a> {
    Request,
    Body(&'a [u8]),
    BodyEnd,
    Writable,
    Closed(&'a CloseReason),
}

impl<'a> Ev<'a> {
    /// The handler's event; `None` for `Request` without a request.
    pub(crate) fn resolve<'x>(self, req: Option<&'x Request>) -> Option<HttpEvent<'x>>
    where
        'a: 'x,
    {
        Some(match self {
            Ev::Request => HttpEvent::Request(req?),
            Ev::Body(d) => HttpEvent::Body(d),
            Ev::BodyEnd => HttpEvent::BodyEnd,
            Ev::Writable => HttpEvent::Writable,
            Ev::Closed(r) => HttpEvent::Closed(r),
        })
    }
}

/// The HTTP protocol a role (HTTP/1 or HTTP/2) is bound to.
pub(crate) fn proto_of<H: HttpHandler>(p: &mut dyn Protocol) -> Option<&mut HttpProtocol<H>> {
    lws_core::downcast_protocol::<HttpProtocol<H>>(p)
}

/// User code for an HTTP server protocol (HTTP/1.1 and HTTP/2 alike).
///
/// Requests the library answers itself never reach it: those served by a
/// mount, refused methods (see [`crate::server::method`]), malformed or
/// over-limit requests, and WebSocket upgrades handed to a ws protocol.
pub trait HttpHandler: 'static {
    /// Per-exchange state: created (`Default`) when a request reaches the
    /// handler, dropped after that exchange's [`HttpEvent::Closed`]. Two
    /// requests on one HTTP/1.1 keep-alive connection get two, as do two
    /// HTTP/2 streams on one connection. There is no per-connection state
    /// (an HTTP/2 connection carries many exchanges at once): what must
    /// span exchanges belongs in the handler itself.
    type Exchange: Default + 'static;

    fn on_event(
        &mut self,
        cx: &mut HttpCx<'_, '_>,
        exchange: &mut Self::Exchange,
        event: HttpEvent<'_>,
    );

    /// Context-wide events (waker, protocol timers, stopping).
    fn on_context_event(&mut self, _cx: &mut Cx<'_>, _event: &ContextEvent) {}
}

/// A handler that answers 404 to everything no mount serves.
#[derive(Debug, Default)]
pub struct NotFound;

impl HttpHandler for NotFound {
    type Exchange = ();

    fn on_event(&mut self, cx: &mut HttpCx<'_, '_>, _: &mut (), ev: HttpEvent<'_>) {
        if let HttpEvent::BodyEnd = ev
            && !cx.response_done()
        {
            let _ = cx.respond(404, &[("Content-Type", "text/plain")], b"404 Not Found\n");
        }
    }
}

/// An HTTP server protocol (HTTP/1.1, and HTTP/2 unless configured off):
/// a handler plus configuration and mounts.
pub struct HttpProtocol<H> {
    pub(crate) handler: H,
    pub(crate) config: ServerConfig,
    pub(crate) mounts: Vec<(Mount, MountDir)>,
}

impl<H> std::fmt::Debug for HttpProtocol<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpProtocol")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl HttpProtocol<NotFound> {
    /// A static file server for `dir` at `/`.
    pub fn files(dir: impl Into<std::path::PathBuf>) -> std::io::Result<Self> {
        HttpProtocol::new(NotFound).mount(Mount::dir("/", dir))
    }
}

impl<H: HttpHandler> HttpProtocol<H> {
    pub fn new(handler: H) -> Self {
        HttpProtocol {
            handler,
            config: ServerConfig::default(),
            mounts: Vec::new(),
        }
    }

    /// Replace the configuration (limits, timeouts). Mounts added with
    /// [`HttpProtocol::mount`] are kept.
    pub fn config(mut self, config: ServerConfig) -> Self {
        self.config = ServerConfig {
            mounts: std::mem::take(&mut self.config.mounts),
            ..config
        };
        self
    }

    /// Serve a directory under a URL prefix (the role answers those
    /// requests itself; the handler sees only the others). Fails if the
    /// directory cannot be opened. Whether the kernel confines lookups
    /// (`openat2`) or the portable walk does is decided here, once (see
    /// [`crate::server::config::Beneath`]).
    pub fn mount(mut self, mount: Mount) -> std::io::Result<Self> {
        let dir = MountDir::open(&mount)?;
        self.config.mounts.push(mount.clone());
        self.mounts.push((mount, dir));
        Ok(self)
    }

    /// Hand WebSocket upgrades to the vhost protocol `name` (unless the
    /// client's `Sec-WebSocket-Protocol` names another protocol of the vhost).
    pub fn websocket(mut self, name: impl Into<String>) -> Self {
        self.config.websocket = Some(name.into());
        self
    }

    /// Hand `CONNECT` requests to the handler (for a proxy). Without
    /// this the library answers them 501, as an origin server should.
    pub fn allow_connect(mut self) -> Self {
        self.config.connect = true;
        self
    }

    /// Let requests with the non-standard method `name` (case-sensitive,
    /// e.g. `PROPFIND`) reach the handler instead of a 501.
    pub fn method(mut self, name: impl Into<String>) -> Self {
        self.config.methods.push(name.into());
        self
    }

    pub fn handler(&self) -> &H {
        &self.handler
    }

    pub fn handler_mut(&mut self) -> &mut H {
        &mut self.handler
    }
}

impl<H: HttpHandler> Protocol for HttpProtocol<H> {
    fn new_role(&mut self, _origin: Origin) -> Box<dyn Role> {
        Box::new(ServerRole::<H>::new())
    }

    fn on_context_event(&mut self, cx: &mut Cx<'_>, event: &ContextEvent) {
        self.handler.on_context_event(cx, event);
    }
}
