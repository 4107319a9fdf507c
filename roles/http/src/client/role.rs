//! The HTTP/1 client state machine bound to one connection: send the
//! request (inline or streamed body), parse the response head (skipping
//! 1xx), deliver the body by its framing, follow redirects when asked, and
//! keep the connection for the next request when the server allows it.

use std::any::Any;
use std::marker::PhantomData;

use lws_core::{CloseReason, ConnCx, Disposition, Protocol, Role, downcast_protocol};

use crate::client::request::{ClientError, ClientRequest, RequestBody};
use crate::client::{ClientCx, ClientEvent, HttpClientHandler, HttpClientProtocol};
use crate::parse::chunked::Chunk;
use crate::parse::response::{ResponseFraming, ResponseHead, parse_response};
use crate::parse::{ChunkedDecoder, encode_chunk_header};

/// What a client connection is created with (the `Connect` payload).
pub(crate) struct Carry {
    pub req: ClientRequest,
    /// The session of a redirected request, moved from its old connection.
    pub session: Option<Box<dyn Any>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Connected, nothing in flight (keep-alive reuse possible).
    Idle,
    /// Streaming the request body.
    Sending,
    AwaitHead,
    Body,
    /// Handed over to another connection (redirect); silent from now on.
    HandedOff,
}

pub(crate) enum RespBody {
    None,
    Length(u64),
    Chunked(ChunkedDecoder),
    UntilClose,
}

/// Everything but the session (so events can borrow one while the handler
/// mutates the other).
pub(crate) struct ClientState {
    pub req: Option<ClientRequest>,
    pub phase: Phase,
    pub inbuf: Vec<u8>,
    pub body: RespBody,
    pub keep_alive: bool,
    pub redirect: Option<ClientRequest>,
    pub received: u64,
}

pub(crate) struct ClientRole<H: HttpClientHandler> {
    session: H::Session,
    st: ClientState,
    _h: PhantomData<fn() -> H>,
}

impl<H: HttpClientHandler> ClientRole<H> {
    pub fn new(carry: Option<Carry>) -> Self {
        let (req, session) = match carry {
            Some(c) => (
                Some(c.req),
                c.session
                    .and_then(|s| s.downcast::<H::Session>().ok())
                    .map(|b| *b),
            ),
            None => (None, None),
        };
        let st = ClientState {
            req,
            phase: Phase::Idle,
            inbuf: Vec::new(),
            body: RespBody::None,
            keep_alive: false,
            redirect: None,
            received: 0,
        };
        ClientRole {
            session: session.unwrap_or_default(),
            st,
            _h: PhantomData,
        }
    }

    fn emit(&mut self, cx: &mut ConnCx<'_>, p: &mut HttpClientProtocol<H>, ev: ClientEvent<'_>) {
        if self.st.phase == Phase::HandedOff {
            return;
        }
        let mut ccx = ClientCx {
            conn: cx,
            st: &mut self.st,
        };
        p.handler.on_event(&mut ccx, &mut self.session, ev);
    }

    fn fail(&mut self, cx: &mut ConnCx<'_>, p: &mut HttpClientProtocol<H>, e: ClientError) {
        self.emit(cx, p, ClientEvent::Error(&e));
        self.st.phase = Phase::Idle; // the exchange is over; Closed follows
        cx.close(CloseReason::Protocol(e.to_string()));
    }

    fn input(&mut self, cx: &mut ConnCx<'_>, p: &mut HttpClientProtocol<H>, data: &[u8]) {
        self.st.inbuf.extend_from_slice(data);
        let buf = std::mem::take(&mut self.st.inbuf);
        let mut at = 0;
        while at < buf.len() && !cx.is_closing() {
            let rest = &buf[at..];
            let used = match self.st.phase {
                Phase::AwaitHead | Phase::Sending => match self.head(cx, p, rest) {
                    Some(n) => n,
                    None => break,
                },
                Phase::Body => self.body(cx, p, rest),
                Phase::Idle | Phase::HandedOff => rest.len(), // unsolicited bytes are dropped
            };
            at += used;
        }
        if !cx.is_closing() {
            self.st.inbuf = buf.get(at..).unwrap_or(&[]).to_vec();
        }
    }

    /// Parse a response head; `None`: need more bytes.
    fn head(
        &mut self,
        cx: &mut ConnCx<'_>,
        p: &mut HttpClientProtocol<H>,
        rest: &[u8],
    ) -> Option<usize> {
        let was_head = self.st.req.as_ref().is_some_and(|r| r.method == "HEAD");
        let (head, n) = match parse_response(rest, was_head, p.max_head) {
            Ok(Some(h)) => h,
            Ok(None) => return None,
            Err(e) => {
                self.fail(cx, p, ClientError::BadResponse(e.to_string()));
                return Some(rest.len());
            }
        };
        if (100..200).contains(&head.status) {
            return Some(n); // interim response (100 Continue)
        }
        self.st.keep_alive = head.keep_alive;
        self.st.received = 0;
        self.st.body = match head.framing {
            ResponseFraming::Empty | ResponseFraming::Length(0) => RespBody::None,
            ResponseFraming::Length(len) => RespBody::Length(len),
            ResponseFraming::Chunked => RespBody::Chunked(ChunkedDecoder::new(p.max_body)),
            ResponseFraming::UntilClose => {
                self.st.keep_alive = false;
                RespBody::UntilClose
            }
        };
        self.st.phase = Phase::Body;
        self.st.redirect = self.redirect_for(&head);
        if let Some(Err(e)) = self.st.redirect.as_ref().map(|r| r.connect().map(|_| ())) {
            self.fail(cx, p, e);
            return Some(rest.len());
        }
        if self.st.redirect.is_none() {
            self.emit(cx, p, ClientEvent::Response(&head));
        }
        if matches!(self.st.body, RespBody::None) {
            self.complete(cx, p);
        }
        Some(n)
    }

    fn redirect_for(&self, head: &ResponseHead) -> Option<ClientRequest> {
        let req = self.st.req.as_ref()?;
        if req.follow == 0 || !matches!(head.status, 301 | 302 | 303 | 307 | 308) {
            return None;
        }
        let loc = head.headers.get_str("location")?;
        req.redirected(head.status, loc).ok()
    }

    /// Deliver body bytes; returns how many were consumed.
    fn body(&mut self, cx: &mut ConnCx<'_>, p: &mut HttpClientProtocol<H>, rest: &[u8]) -> usize {
        let body = std::mem::replace(&mut self.st.body, RespBody::None);
        let (used, body, done) = match body {
            RespBody::Length(left) => {
                let n = left.min(rest.len() as u64) as usize;
                self.deliver(cx, p, &rest[..n]);
                let left = left - n as u64;
                (
                    n,
                    if left == 0 {
                        RespBody::None
                    } else {
                        RespBody::Length(left)
                    },
                    left == 0,
                )
            }
            RespBody::UntilClose => {
                self.deliver(cx, p, rest);
                (rest.len(), RespBody::UntilClose, false)
            }
            RespBody::Chunked(mut dec) => {
                let mut used = 0;
                let mut done = false;
                while used < rest.len() {
                    match dec.decode(&rest[used..]) {
                        Ok((n, chunk)) => {
                            used += n;
                            match chunk {
                                Some(Chunk::Data(d)) => self.deliver(cx, p, d),
                                Some(Chunk::End) => {
                                    done = true;
                                    break;
                                }
                                None => {}
                            }
                        }
                        Err(e) => {
                            self.fail(cx, p, ClientError::BadResponse(e.to_string()));
                            return rest.len();
                        }
                    }
                }
                (
                    used,
                    if done {
                        RespBody::None
                    } else {
                        RespBody::Chunked(dec)
                    },
                    done,
                )
            }
            RespBody::None => (0, RespBody::None, true),
        };
        self.st.body = body;
        if done {
            self.complete(cx, p);
        }
        used
    }

    fn deliver(&mut self, cx: &mut ConnCx<'_>, p: &mut HttpClientProtocol<H>, data: &[u8]) {
        self.st.received += data.len() as u64;
        if self.st.received > p.max_body {
            return self.fail(cx, p, ClientError::TooLarge(p.max_body));
        }
        if self.st.redirect.is_none() && !data.is_empty() {
            self.emit(cx, p, ClientEvent::Body(data));
        }
    }

    /// The response is complete: redirect, or report and idle/close.
    fn complete(&mut self, cx: &mut ConnCx<'_>, p: &mut HttpClientProtocol<H>) {
        cx.set_timeout(None);
        self.st.phase = Phase::Idle;
        if let Some(next) = self.st.redirect.take() {
            return self.follow(cx, next);
        }
        self.emit(cx, p, ClientEvent::Done);
        if !self.st.keep_alive && self.st.phase == Phase::Idle {
            cx.close(CloseReason::Normal);
        }
    }

    /// Send `next` here if it is for the same origin and the connection is
    /// reusable; else move the exchange (and the session) to a new one.
    fn follow(&mut self, cx: &mut ConnCx<'_>, next: ClientRequest) {
        let same = self.st.keep_alive
            && self
                .st
                .req
                .as_ref()
                .is_some_and(|r| r.origin() == next.origin());
        if same {
            return start(cx, &mut self.st, next);
        }
        if let Ok(connect) = next.connect() {
            let session: Box<dyn Any> = Box::new(std::mem::take(&mut self.session));
            cx.cx().connect(connect.payload(Box::new(Carry {
                req: next,
                session: Some(session),
            })));
        }
        self.st.phase = Phase::HandedOff;
        cx.close(CloseReason::Normal);
    }
}

/// Write `req` on this connection and wait for its response.
pub(crate) fn start(cx: &mut ConnCx<'_>, st: &mut ClientState, req: ClientRequest) {
    let mut out = Vec::with_capacity(256);
    req.encode(&mut out);
    let streaming = matches!(req.body, RequestBody::Stream(_));
    cx.set_timeout(Some(req.timeout));
    st.req = Some(req);
    st.inbuf.clear();
    st.phase = if streaming {
        Phase::Sending
    } else {
        Phase::AwaitHead
    };
    if cx.write(&out).is_ok() && streaming {
        cx.request_writable();
    }
}

/// Chunk framing for a streamed request body piece (or the last chunk).
pub(crate) fn frame_chunk(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 16);
    encode_chunk_header(&mut out, data.len());
    if !data.is_empty() {
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn proto_of<H: HttpClientHandler>(p: &mut dyn Protocol) -> Option<&mut HttpClientProtocol<H>> {
    downcast_protocol::<HttpClientProtocol<H>>(p)
}

impl<H: HttpClientHandler> Role for ClientRole<H> {
    fn name(&self) -> &'static str {
        "http1-client"
    }

    fn on_open(&mut self, cx: &mut ConnCx<'_>, _p: &mut dyn Protocol) -> Disposition {
        if let Some(req) = self.st.req.take() {
            start(cx, &mut self.st, req);
        }
        Disposition::Continue
    }

    fn on_rx(&mut self, cx: &mut ConnCx<'_>, p: &mut dyn Protocol, data: &[u8]) -> Disposition {
        if let Some(p) = proto_of::<H>(p) {
            self.input(cx, p, data);
        }
        Disposition::Continue
    }

    fn on_writable(&mut self, cx: &mut ConnCx<'_>, p: &mut dyn Protocol) -> Disposition {
        if let Some(p) = proto_of::<H>(p) {
            self.emit(cx, p, ClientEvent::Writable);
        }
        Disposition::Continue
    }

    fn on_timeout(&mut self, cx: &mut ConnCx<'_>, p: &mut dyn Protocol) -> Disposition {
        let t = self.st.req.as_ref().map(|r| r.timeout).unwrap_or_default();
        if let Some(p) = proto_of::<H>(p) {
            self.fail(cx, p, ClientError::Timeout(t));
        }
        Disposition::Close(CloseReason::Timeout)
    }

    fn on_connect_error(
        &mut self,
        cx: &mut ConnCx<'_>,
        p: &mut dyn Protocol,
        err: &std::io::Error,
    ) {
        let msg = err.to_string();
        let e = match (lws_core::dns_error(err), msg.strip_prefix("TLS: ")) {
            (Some(dns), _) => ClientError::Dns {
                host: self
                    .st
                    .req
                    .as_ref()
                    .and_then(|r| r.url().host_str())
                    .unwrap_or_default()
                    .to_owned(),
                error: dns.clone(),
            },
            (None, Some(tls)) => ClientError::Tls(tls.to_owned()),
            (None, None) => ClientError::Connect(msg),
        };
        if let Some(p) = proto_of::<H>(p) {
            self.emit(cx, p, ClientEvent::Error(&e));
        }
    }

    fn on_close(&mut self, cx: &mut ConnCx<'_>, p: &mut dyn Protocol, reason: &CloseReason) {
        let Some(p) = proto_of::<H>(p) else { return };
        match (self.st.phase, &self.st.body) {
            (Phase::Body, RespBody::UntilClose) => {
                self.st.phase = Phase::Idle;
                self.emit(cx, p, ClientEvent::Done);
            }
            (Phase::AwaitHead | Phase::Body | Phase::Sending, _) => {
                self.emit(cx, p, ClientEvent::Error(&ClientError::Incomplete))
            }
            _ => {}
        }
        self.emit(cx, p, ClientEvent::Closed(reason));
    }
}
