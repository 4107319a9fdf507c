//! The HTTP/1.1 client: typed events, the handler trait, the protocol
//! object, and the handle a handler acts through.
//!
//! Start a request with [`send`] (from the host, on a `Context`) or
//! [`send_from`] (inside a callback); the connection is opened for it, and
//! events arrive on the protocol's handler: `Response`, `Body`..., `Done`,
//! or `Error`, then `Closed`. After `Done` on a keep-alive connection,
//! [`ClientCx::send`] reuses it for the next request to the same origin.

pub mod request;
pub(crate) mod role;

use lws_core::{CloseReason, ConnCx, Context, Cx, Origin, Protocol, Role, Token};

pub use crate::parse::response::ResponseHead;
pub use request::{ClientError, ClientRequest, RequestBody};
use role::{Carry, ClientRole, ClientState, Phase};

/// One thing that happened on an HTTP/1 client connection.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientEvent<'a> {
    /// The final response head (1xx are skipped, followed redirects are not
    /// reported).
    Response(&'a ResponseHead),
    /// Part of the response body (de-chunked).
    Body(&'a [u8]),
    /// The response is complete.
    Done,
    /// Write more of a streamed request body.
    Writable,
    /// The request failed; `Closed` follows (unless it failed to connect).
    Error(&'a ClientError),
    Closed(&'a CloseReason),
}

/// User code for HTTP/1 client connections.
pub trait HttpClientHandler: 'static {
    type Session: Default + 'static;

    fn on_event(
        &mut self,
        cx: &mut ClientCx<'_, '_>,
        session: &mut Self::Session,
        event: ClientEvent<'_>,
    );
}

/// A client protocol: the handler and response limits.
#[derive(Debug)]
pub struct HttpClientProtocol<H> {
    pub(crate) handler: H,
    pub(crate) max_body: u64,
    pub(crate) max_head: usize,
}

impl<H: HttpClientHandler> HttpClientProtocol<H> {
    pub fn new(handler: H) -> Self {
        HttpClientProtocol {
            handler,
            max_body: u64::MAX,
            max_head: 64 * 1024,
        }
    }

    /// Refuse response bodies larger than this (default: no limit).
    pub fn max_body(mut self, bytes: u64) -> Self {
        self.max_body = bytes;
        self
    }

    pub fn handler(&self) -> &H {
        &self.handler
    }

    pub fn handler_mut(&mut self) -> &mut H {
        &mut self.handler
    }
}

impl<H: HttpClientHandler> Protocol for HttpClientProtocol<H> {
    fn new_role(&mut self, origin: Origin) -> Box<dyn Role> {
        let carry = match origin {
            Origin::Client(Some(p)) => p.downcast::<Carry>().ok().map(|c| *c),
            _ => None,
        };
        Box::new(ClientRole::<H>::new(carry))
    }
}

/// Open a connection for `req`, bound to `protocol` on the first vhost.
pub fn send(ctx: &mut Context, protocol: &str, req: ClientRequest) -> Result<Token, ClientError> {
    let c = req
        .connect()?
        .protocol(protocol)
        .payload(Box::new(Carry { req, session: None }));
    ctx.connect(c)
        .map_err(|e| ClientError::Connect(e.to_string()))
}

/// Open a connection for `req` from inside a callback, bound to that
/// callback's vhost and protocol unless `protocol` names another.
pub fn send_from(
    cx: &mut Cx<'_>,
    protocol: Option<&str>,
    req: ClientRequest,
) -> Result<(), ClientError> {
    let mut c = req.connect()?;
    if let Some(p) = protocol {
        c = c.protocol(p);
    }
    cx.connect(c.payload(Box::new(Carry { req, session: None })));
    Ok(())
}

/// The handle a client handler acts through.
pub struct ClientCx<'c, 'a> {
    pub(crate) conn: &'c mut ConnCx<'a>,
    pub(crate) st: &'c mut ClientState,
}

impl std::fmt::Debug for ClientCx<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCx")
            .field("token", &self.conn.token())
            .finish()
    }
}

impl<'a> ClientCx<'_, 'a> {
    pub fn conn(&mut self) -> &mut ConnCx<'a> {
        self.conn
    }

    pub fn token(&self) -> Token {
        self.conn.token()
    }

    /// The request in flight (or last sent).
    pub fn request(&self) -> Option<&ClientRequest> {
        self.st.req.as_ref()
    }

    /// Send a part of a streamed request body (`RequestBody::Stream`).
    pub fn write_body(&mut self, data: &[u8]) -> Result<(), lws_core::Error> {
        match self.st.req.as_ref().map(|r| &r.body) {
            Some(RequestBody::Stream(None)) if !data.is_empty() => {
                self.conn.write(&role::frame_chunk(data))
            }
            Some(RequestBody::Stream(_)) => self.conn.write(data),
            _ => Err(lws_core::Error::Unsupported(
                "write_body without a streamed request body",
            )),
        }
    }

    /// End a streamed request body; the response is awaited next.
    pub fn finish_body(&mut self) -> Result<(), lws_core::Error> {
        if matches!(
            self.st.req.as_ref().map(|r| &r.body),
            Some(RequestBody::Stream(None))
        ) {
            self.conn.write(&role::frame_chunk(&[]))?;
        }
        if self.st.phase == Phase::Sending {
            self.st.phase = Phase::AwaitHead;
        }
        Ok(())
    }

    /// Ask for a `Writable` event (to continue a streamed body).
    pub fn request_writable(&mut self) {
        self.conn.request_writable();
    }

    /// Reuse this connection for another request to the same origin, once
    /// the previous response is `Done` and the server kept the connection.
    pub fn send(&mut self, req: ClientRequest) -> Result<(), ClientError> {
        let same = self
            .st
            .req
            .as_ref()
            .is_some_and(|r| r.origin() == req.origin());
        if self.st.phase != Phase::Idle || !self.st.keep_alive || !same || self.conn.is_closing() {
            return Err(ClientError::Connect(
                "connection not reusable for this request".into(),
            ));
        }
        role::start(self.conn, self.st, req);
        Ok(())
    }

    pub fn close(&mut self) {
        self.conn.close(CloseReason::Normal);
    }
}
