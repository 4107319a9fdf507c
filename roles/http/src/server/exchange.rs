//! One request/response exchange, and the handle ([`HttpCx`]) a handler
//! responds through. The exchange enforces the response rules: exactly one
//! response per request, framing chosen and written by the library,
//! `Content-Length` honoured exactly, and `Connection: close` whenever the
//! connection cannot be reused (client asked, HTTP/1.0 without keep-alive,
//! request body not fully read, or a close-delimited body).

use std::net::SocketAddr;

use lws_core::{CloseReason, ConnCx, Cx};

use crate::parse::response::{ResponseFraming, write_head};
use crate::parse::{ChunkedDecoder, Version, encode_chunk_header};
use crate::server::files::FileSend;
use crate::server::request::Request;

/// Where the request body stands.
#[derive(Debug)]
pub(crate) enum BodyState {
    Length(u64),
    Chunked(ChunkedDecoder),
    Done,
}

/// Where the response stands.
#[derive(Debug)]
pub(crate) enum RespState {
    NotStarted,
    Streaming {
        chunked: bool,
        remaining: Option<u64>,
    },
    File(FileSend),
    Done,
}

/// One request and where its exchange stands.
#[derive(Debug)]
pub(crate) struct Exchange {
    pub request: Request,
    pub st: ExState,
}

/// The mutable part of an exchange (split from the request so a handler
/// can read the request while responding).
#[derive(Debug)]
pub(crate) struct ExState {
    pub body: BodyState,
    pub resp: RespState,
    /// The connection closes once this response is sent.
    pub close_after: bool,
    /// Set by the handler: switch this connection to another protocol.
    pub upgrade: Option<String>,
    /// The handler paused the request body (`pause_body`).
    pub body_paused: bool,
    /// The handler asked for a `Writable` event.
    pub user_writable: bool,
}

impl ExState {
    pub fn body_done(&self) -> bool {
        matches!(self.body, BodyState::Done)
    }

    pub fn resp_done(&self) -> bool {
        matches!(self.resp, RespState::Done)
    }

    /// Decide persistence and write the head (and `extra_body`, sent in the
    /// same write). Returns the framing used.
    pub fn write_head(
        &mut self,
        req: &Request,
        conn: &mut ConnCx<'_>,
        status: u16,
        headers: &[(&str, &str)],
        length: Option<u64>,
        extra_body: &[u8],
    ) -> Result<ResponseFraming, HttpError> {
        if !matches!(self.resp, RespState::NotStarted) {
            return Err(HttpError::AlreadyResponded);
        }
        let head_only = req.bodiless_response(status);
        let framing = match (head_only, length, req.version()) {
            (true, _, _) => ResponseFraming::Empty,
            (false, Some(n), _) => ResponseFraming::Length(n),
            (false, None, Version::Http11 | Version::Http2) => ResponseFraming::Chunked,
            (false, None, Version::Http10) => ResponseFraming::UntilClose,
        };
        let persistent =
            req.head.keep_alive && self.body_done() && framing != ResponseFraming::UntilClose;
        self.close_after |= !persistent;
        let announce = if req.is_head() { length } else { None };
        let mut out = Vec::with_capacity(256 + extra_body.len());
        write_head(
            &mut out,
            status,
            headers,
            framing,
            self.close_after,
            announce,
        );
        if framing != ResponseFraming::Empty {
            out.extend_from_slice(extra_body);
        }
        conn.write(&out).map_err(HttpError::Write)?;
        self.resp = match framing {
            ResponseFraming::Empty => RespState::Done,
            ResponseFraming::Chunked => RespState::Streaming {
                chunked: true,
                remaining: None,
            },
            ResponseFraming::Length(n) => {
                let left = n.saturating_sub(extra_body.len() as u64);
                if left == 0 {
                    RespState::Done
                } else {
                    RespState::Streaming {
                        chunked: false,
                        remaining: Some(left),
                    }
                }
            }
            ResponseFraming::UntilClose => RespState::Streaming {
                chunked: false,
                remaining: None,
            },
        };
        Ok(framing)
    }
}

/// Misuse of the response API, or a failed write.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    #[error("no request is in progress on this connection")]
    NoRequest,
    #[error("this request already has a response")]
    AlreadyResponded,
    #[error("no streaming response is in progress")]
    NotStreaming,
    #[error("body longer than the Content-Length announced ({excess} bytes too many)")]
    BodyTooLong { excess: u64 },
    #[error("response finished with {missing} bytes of the announced Content-Length missing")]
    BodyIncomplete { missing: u64 },
    #[error(transparent)]
    Write(lws_core::Error),
    /// The HTTP/2 stream was reset or already finished.
    #[cfg(feature = "http2")]
    #[error(transparent)]
    StreamClosed(#[from] crate::h2::StreamGone),
    #[error("protocol upgrades are not available on HTTP/2")]
    NoUpgradeOnHttp2,
}

/// The handle a handler acts through for one exchange (an HTTP/1 request
/// or an HTTP/2 stream). Every method acts on that exchange, the right
/// way for its version (e.g. [`HttpCx::close`] closes an HTTP/1
/// connection but resets only the stream on HTTP/2).
///
/// The connection itself is not handed out: on HTTP/2 it carries every
/// stream, so writing to it, pausing it, setting its timeout or closing
/// it would corrupt the framing or hit every exchange, and on HTTP/1 a
/// raw write would break the response framing too.
///
/// ```compile_fail
/// fn f(cx: &mut lws_role_http::HttpCx<'_, '_>) {
///     let _ = cx.conn().write(b"raw bytes");
/// }
/// ```
pub struct HttpCx<'c, 'a> {
    pub(crate) conn: &'c mut ConnCx<'a>,
    pub(crate) req: Option<&'c Request>,
    pub(crate) st: Option<&'c mut ExState>,
    /// Set when the exchange is an HTTP/2 stream (then `st` is `None`).
    pub(crate) h2: Option<crate::h2::role::StreamCx<'c>>,
}

impl std::fmt::Debug for HttpCx<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpCx")
            .field("token", &self.conn.token())
            .finish()
    }
}

impl<'a> HttpCx<'_, 'a> {
    /// Context-wide operations: stop the context, open client
    /// connections, schedule callbacks, wake other connections.
    pub fn context(&mut self) -> &mut Cx<'a> {
        self.conn.cx()
    }

    /// The connection carrying this exchange (shared by the streams of
    /// an HTTP/2 connection).
    pub fn token(&self) -> lws_core::Token {
        self.conn.token()
    }

    /// The client's address (`None` for a Unix socket peer).
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.conn.peer_addr()
    }

    /// Whether the exchange arrived over TLS.
    pub fn is_tls(&self) -> bool {
        self.conn.is_tls()
    }

    /// The request being answered, if any.
    pub fn request(&self) -> Option<&Request> {
        self.req
    }

    fn parts(&mut self) -> Result<(&Request, &mut ExState, &mut ConnCx<'a>), HttpError> {
        match (self.req, self.st.as_deref_mut()) {
            (Some(r), Some(s)) => Ok((r, s, &mut *self.conn)),
            _ => Err(HttpError::NoRequest),
        }
    }

    /// Send a complete response with a `Content-Length` body.
    pub fn respond(
        &mut self,
        status: u16,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<(), HttpError> {
        if let (Some(s), Some(req)) = (&mut self.h2, self.req) {
            return s.respond(req, status, headers, body);
        }
        let (req, st, conn) = self.parts()?;
        st.write_head(req, conn, status, headers, Some(body.len() as u64), body)?;
        Ok(())
    }

    /// Start a streamed response: `length` announces a `Content-Length`;
    /// `None` streams chunked (or, to an HTTP/1.0 client, until close).
    /// Continue with [`HttpCx::write_body`] (one write per `Writable` is the
    /// polite pace) and end with [`HttpCx::finish`].
    pub fn start_response(
        &mut self,
        status: u16,
        headers: &[(&str, &str)],
        length: Option<u64>,
    ) -> Result<(), HttpError> {
        if let (Some(s), Some(req)) = (&mut self.h2, self.req) {
            return s.start_response(req, status, headers, length);
        }
        let (req, st, conn) = self.parts()?;
        st.write_head(req, conn, status, headers, length, &[])?;
        Ok(())
    }

    /// Send part of a streamed response body. Refused with
    /// [`lws_core::Error::OutputLimit`] (inside [`HttpError::Write`],
    /// nothing written) when the output is too far behind: on HTTP/1 the
    /// socket, on HTTP/2 the connection's parked bytes (`H2Config::max_parked`,
    /// where a `Writable` then follows by itself); write again on `Writable`.
    pub fn write_body(&mut self, data: &[u8]) -> Result<(), HttpError> {
        if let Some(s) = &mut self.h2 {
            return s.write_body(data);
        }
        let (_, ex, conn) = self.parts()?;
        let RespState::Streaming { chunked, remaining } = &mut ex.resp else {
            return Err(HttpError::NotStreaming);
        };
        if data.is_empty() {
            return Ok(());
        }
        if *chunked {
            let mut out = Vec::with_capacity(data.len() + 16);
            encode_chunk_header(&mut out, data.len());
            out.extend_from_slice(data);
            out.extend_from_slice(b"\r\n");
            return conn.write(&out).map_err(HttpError::Write);
        }
        if let Some(left) = remaining {
            let n = data.len() as u64;
            if n > *left {
                return Err(HttpError::BodyTooLong { excess: n - *left });
            }
            *left -= n;
        }
        conn.write(data).map_err(HttpError::Write)
    }

    /// End a streamed response.
    pub fn finish(&mut self) -> Result<(), HttpError> {
        if let Some(s) = &mut self.h2 {
            return s.finish();
        }
        let (_, ex, conn) = self.parts()?;
        let RespState::Streaming { chunked, remaining } = ex.resp else {
            return Err(HttpError::NotStreaming);
        };
        ex.resp = RespState::Done;
        if chunked {
            let mut out = Vec::with_capacity(8);
            encode_chunk_header(&mut out, 0);
            return conn.write(&out).map_err(HttpError::Write);
        }
        match remaining {
            Some(missing) if missing > 0 => {
                // The peer would wait for bytes that never come: close.
                conn.close(CloseReason::Protocol(
                    "response shorter than its Content-Length".into(),
                ));
                Err(HttpError::BodyIncomplete { missing })
            }
            _ => {
                if remaining.is_none() {
                    ex.close_after = true; // close-delimited body
                }
                Ok(())
            }
        }
    }

    /// Redirect to `location` (301, 302, 303, 307 or 308).
    pub fn redirect(&mut self, status: u16, location: &str) -> Result<(), HttpError> {
        let body = format!("Moved to {location}\n");
        self.respond(
            status,
            &[("Location", location), ("Content-Type", "text/plain")],
            body.as_bytes(),
        )
    }

    /// Ask for a `Writable` event (to continue a streamed response).
    pub fn request_writable(&mut self) {
        match &mut self.h2 {
            Some(s) => s.request_writable(),
            None => {
                if let Some(st) = self.st.as_deref_mut() {
                    st.user_writable = true;
                }
                self.conn.request_writable();
            }
        }
    }

    /// Stop (or resume) reading the request body: back-pressure.
    pub fn pause_body(&mut self, paused: bool) {
        match &mut self.h2 {
            // Per stream: its window stays closed while paused.
            Some(s) => s.pause_body(paused),
            None => {
                // Body bytes already read stay buffered while paused; on
                // resume a writable pass delivers them even if the peer
                // sends nothing more.
                if let Some(st) = self.st.as_deref_mut() {
                    st.body_paused = paused;
                }
                self.conn.pause_rx(paused);
                if !paused {
                    self.conn.request_writable();
                }
            }
        }
    }

    /// Whether the current response has been completely written.
    pub fn response_done(&self) -> bool {
        match &self.h2 {
            Some(s) => s.response_done(),
            None => self.st.as_deref().is_none_or(ExState::resp_done),
        }
    }

    /// The HTTP/2 stream this exchange runs on (`None` on HTTP/1).
    pub fn stream_id(&self) -> Option<u32> {
        self.h2.as_ref().map(|s| s.id())
    }

    /// Switch this connection to the vhost protocol `protocol` after this
    /// callback (e.g. a WebSocket protocol on an `Upgrade` request); that
    /// protocol's role takes over the request, and this exchange ends
    /// (`Closed(Normal)`). HTTP/1 only.
    pub fn upgrade(&mut self, protocol: &str) -> Result<(), HttpError> {
        if self.h2.is_some() {
            return Err(HttpError::NoUpgradeOnHttp2);
        }
        let (_, ex, _) = self.parts()?;
        if !matches!(ex.resp, RespState::NotStarted) {
            return Err(HttpError::AlreadyResponded);
        }
        ex.upgrade = Some(protocol.to_owned());
        Ok(())
    }

    /// Abandon this exchange. On HTTP/1 the connection closes after this
    /// callback (nothing else could follow an unfinished response); on
    /// HTTP/2 the stream is reset (RST_STREAM CANCEL) unless its response
    /// is complete, and the connection and its other streams go on.
    pub fn close(&mut self) {
        match &mut self.h2 {
            Some(s) => s.cancel(),
            None => self.conn.close(CloseReason::Normal),
        }
    }
}
