//! The HTTP/1 server state machine bound to one connection.
//!
//! Input is parsed in place from the bytes the core hands over; only an
//! incomplete head or pipelined requests waiting for the current response
//! are buffered, both bounded. One exchange runs at a time: the next
//! pipelined request is parsed only when the current response is complete,
//! so a request is never answered twice and responses stay in order. Bad
//! input is answered with its status and `Connection: close`.

use std::marker::PhantomData;

use lws_core::{CloseReason, ConnCx, Disposition, Protocol, Role};

use crate::parse::chunked::Chunk;
use crate::parse::response::{ResponseFraming, write_head};
use crate::parse::{BodyFraming, ChunkedDecoder, RequestHead, parse_request};
use crate::server::exchange::{BodyState, ExState, Exchange, HttpCx, RespState};
use crate::server::protocol::{Ev, HttpHandler, HttpProtocol, proto_of};
use crate::server::request::Request;
use crate::server::{files, method};

/// Handed to the protocol a request upgrades to (see `HttpCx::upgrade`).
#[derive(Debug)]
pub struct UpgradeRequest {
    pub request: Request,
    /// Bytes the client sent after the request head.
    pub leftover: Vec<u8>,
}

pub(crate) struct ServerRole<H: HttpHandler> {
    ex: Option<Exchange>,
    /// The handler's state for the exchange in `ex`, while the handler
    /// has it (not for requests the library answers itself).
    user: Option<H::Exchange>,
    inbuf: Vec<u8>,
    head_started: bool,
    /// The request's `Host` belongs to another vhost on this listener.
    moving: Option<String>,
    /// No request yet: the bytes may still be the HTTP/2 preface.
    #[cfg(feature = "http2")]
    fresh: bool,
    _h: PhantomData<fn() -> H>,
}

impl<H: HttpHandler> ServerRole<H> {
    pub fn new() -> Self {
        ServerRole {
            ex: None,
            user: None,
            inbuf: Vec::new(),
            head_started: false,
            moving: None,
            #[cfg(feature = "http2")]
            fresh: true,
            _h: PhantomData,
        }
    }

    /// Raise `ev` on the handler's exchange, if it has one.
    fn emit(&mut self, cx: &mut ConnCx<'_>, proto: &mut HttpProtocol<H>, ev: Ev<'_>) {
        let (Some(ex), Some(user)) = (&mut self.ex, &mut self.user) else {
            return;
        };
        if cx.is_closing() && !matches!(ev, Ev::Closed(_)) {
            return; // the handler (or bad input) closed: only `Closed` follows
        }
        let req = Some(&ex.request);
        let Some(event) = ev.resolve(req) else { return };
        let mut hcx = HttpCx {
            conn: cx,
            req,
            st: Some(&mut ex.st),
            h2: None,
        };
        proto.handler.on_event(&mut hcx, user, event);
    }

    /// Take in bytes (new, or `&[]` to resume buffered ones).
    fn input(
        &mut self,
        cx: &mut ConnCx<'_>,
        proto: &mut HttpProtocol<H>,
        data: &[u8],
    ) -> Disposition {
        #[cfg(feature = "http2")]
        if let Some(d) =
            crate::h2::role::prior_knowledge::<H>(&mut self.fresh, &mut self.inbuf, cx, proto, data)
        {
            return d;
        }
        let (used, rest) = if self.inbuf.is_empty() {
            let used = self.process(cx, proto, data);
            (used, data.get(used..).unwrap_or(&[]).to_vec())
        } else {
            let mut owned = std::mem::take(&mut self.inbuf);
            owned.extend_from_slice(data);
            let used = self.process(cx, proto, &owned);
            owned.drain(..used.min(owned.len()));
            (used, owned)
        };
        let _ = used;
        if let Some(vhost) = self.moving.take() {
            cx.set_timeout(None);
            return Disposition::MoveVhost {
                vhost,
                replay: rest,
            };
        }
        if let Some(d) = self.take_upgrade(cx, proto, &rest) {
            return d;
        }
        if !cx.is_closing() {
            self.inbuf = rest;
            let pipelined = self.ex.is_some() && self.inbuf.len() > proto.config.max_pipeline;
            let paused = self.ex.as_ref().is_some_and(|e| e.st.body_paused);
            cx.pause_rx(pipelined || paused);
            if paused {
                // The server, not the client, is stalling the body.
                cx.set_timeout(None);
            }
        }
        Disposition::Continue
    }

    /// Parse and dispatch what `input` holds; returns the bytes consumed.
    fn process(&mut self, cx: &mut ConnCx<'_>, proto: &mut HttpProtocol<H>, input: &[u8]) -> usize {
        let mut used = 0;
        loop {
            if cx.is_closing() {
                return input.len(); // whatever follows is dropped
            }
            let rest = input.get(used..).unwrap_or(&[]);
            match &self.ex {
                None if rest.is_empty() => break,
                None => {
                    if !self.head_started {
                        self.head_started = true;
                        cx.set_timeout(Some(proto.config.header_timeout));
                    }
                    match parse_request(rest, &proto.config.limits) {
                        Ok(None) => break,
                        Err(e) => {
                            log::debug!("{:?}: bad request: {e}", cx.token());
                            reject(cx, e.status(), &e.to_string());
                            return input.len();
                        }
                        Ok(Some((head, n))) => {
                            let other = head.host.as_deref().and_then(|h| cx.vhost_for_host(h));
                            if let Some(vhost) = other {
                                // Another vhost serves this Host: hand it
                                // the request, unconsumed.
                                self.moving = Some(vhost.to_owned());
                                break;
                            }
                            used += n;
                            self.begin(cx, proto, head);
                        }
                    }
                }
                Some(ex) if ex.st.upgrade.is_some() => break,
                Some(ex) if !ex.st.body_done() => {
                    if rest.is_empty() || ex.st.body_paused {
                        break;
                    }
                    used += self.feed_body(cx, proto, rest);
                }
                Some(_) => {
                    if !self.complete(cx, proto) {
                        break;
                    }
                }
            }
        }
        used
    }

    /// A request head arrived: set up the exchange, serve or hand it over.
    fn begin(&mut self, cx: &mut ConnCx<'_>, proto: &mut HttpProtocol<H>, head: RequestHead) {
        self.head_started = false;
        if let Some(status) = method::refusal(&head.method, &proto.config) {
            return reject(cx, status, "method not served");
        }
        let body = match head.framing {
            BodyFraming::None => BodyState::Done,
            BodyFraming::Length(n) if n > proto.config.max_body => {
                return reject(cx, 413, "request body too large");
            }
            BodyFraming::Length(n) => BodyState::Length(n),
            BodyFraming::Chunked => BodyState::Chunked(ChunkedDecoder::new(proto.config.max_body)),
        };
        let expect_continue = head.expect_continue;
        let st = ExState {
            body,
            resp: RespState::NotStarted,
            close_after: false,
            upgrade: None,
            body_paused: false,
            user_writable: false,
        };
        self.ex = Some(Exchange {
            request: Request { head },
            st,
        });
        let body_pending = !self.ex.as_ref().is_some_and(|e| e.st.body_done());
        cx.set_timeout(body_pending.then_some(proto.config.body_timeout));
        if let Some(target) = self.websocket_target(cx, proto) {
            if let Some(ex) = &mut self.ex {
                ex.st.upgrade = Some(target);
            }
            return;
        }
        if self.serve_mount(cx, proto) {
            return;
        }
        self.user = Some(H::Exchange::default());
        self.emit(cx, proto, Ev::Request);
        let Some(ex) = &mut self.ex else { return };
        if ex.st.upgrade.is_some() {
            return;
        }
        if expect_continue && body_pending && matches!(ex.st.resp, RespState::NotStarted) {
            let _ = cx.write(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        if !body_pending {
            self.emit(cx, proto, Ev::BodyEnd);
        }
    }

    /// For a WebSocket upgrade: the vhost protocol named in
    /// `Sec-WebSocket-Protocol`, else the configured default.
    fn websocket_target(&self, cx: &ConnCx<'_>, proto: &HttpProtocol<H>) -> Option<String> {
        let req = &self.ex.as_ref()?.request;
        if !req
            .upgrade()
            .is_some_and(|u| u.eq_ignore_ascii_case("websocket"))
        {
            return None;
        }
        let offered = req.headers().get_all("sec-websocket-protocol");
        let named = offered
            .flat_map(|v| v.split(|&b| b == b','))
            .filter_map(|t| std::str::from_utf8(t.trim_ascii()).ok())
            .find(|name| !name.is_empty() && cx.vhost_has_protocol(name))
            .map(str::to_owned);
        named.or_else(|| {
            proto
                .config
                .websocket
                .clone()
                .filter(|d| cx.vhost_has_protocol(d))
        })
    }

    /// Serve the request from a mount, if one matches.
    fn serve_mount(&mut self, cx: &mut ConnCx<'_>, proto: &mut HttpProtocol<H>) -> bool {
        let Some(ex) = &mut self.ex else { return false };
        let Some(reply) = files::mount_reply(&proto.mounts, &ex.request) else {
            return false;
        };
        let path = ex.request.path();
        if let Err(e) = files::send_h1(reply, &ex.request, &mut ex.st, cx) {
            log::debug!("{:?}: serving {path}: {e}", cx.token());
            cx.close(CloseReason::Normal);
        }
        if !ex.st.body_done() {
            // The body of a file request is not read; the response already
            // said `Connection: close`.
            ex.st.body = BodyState::Done;
            ex.st.close_after = true;
        }
        true
    }

    /// Deliver body bytes; returns how many of `rest` were consumed.
    fn feed_body(
        &mut self,
        cx: &mut ConnCx<'_>,
        proto: &mut HttpProtocol<H>,
        rest: &[u8],
    ) -> usize {
        let Some(ex) = &mut self.ex else {
            return rest.len();
        };
        let state = std::mem::replace(&mut ex.st.body, BodyState::Done);
        let (used, state) = match state {
            BodyState::Length(left) => {
                let n = (left.min(rest.len() as u64)) as usize;
                self.emit(cx, proto, Ev::Body(&rest[..n]));
                let left = left - n as u64;
                (
                    n,
                    if left == 0 {
                        BodyState::Done
                    } else {
                        BodyState::Length(left)
                    },
                )
            }
            BodyState::Chunked(dec) => match self.feed_chunked(cx, proto, dec, rest) {
                Ok(r) => r,
                Err(status) => {
                    reject(cx, status, "bad chunked body");
                    return rest.len();
                }
            },
            BodyState::Done => (0, BodyState::Done),
        };
        let done = matches!(state, BodyState::Done);
        if let Some(ex) = &mut self.ex {
            ex.st.body = state;
        }
        if done {
            cx.set_timeout(None);
            self.emit(cx, proto, Ev::BodyEnd);
        } else {
            cx.set_timeout(Some(proto.config.body_timeout));
        }
        used
    }

    fn feed_chunked(
        &mut self,
        cx: &mut ConnCx<'_>,
        proto: &mut HttpProtocol<H>,
        mut dec: ChunkedDecoder,
        rest: &[u8],
    ) -> Result<(usize, BodyState), u16> {
        let mut used = 0;
        while used < rest.len() {
            let (n, chunk) = dec.decode(&rest[used..]).map_err(|e| e.status())?;
            used += n;
            match chunk {
                Some(Chunk::Data(d)) => self.emit(cx, proto, Ev::Body(d)),
                Some(Chunk::End) => return Ok((used, BodyState::Done)),
                None => {}
            }
            if self.ex.as_ref().is_some_and(|e| e.st.body_paused) {
                break; // the rest waits in the buffer
            }
            if cx.is_closing() {
                return Ok((rest.len(), BodyState::Done));
            }
        }
        Ok((used, BodyState::Chunked(dec)))
    }

    /// Finish the exchange if both sides are done; `true` if the next
    /// request may be parsed.
    fn complete(&mut self, cx: &mut ConnCx<'_>, proto: &mut HttpProtocol<H>) -> bool {
        let Some(ex) = &self.ex else { return true };
        if !(ex.st.body_done() && ex.st.resp_done()) {
            return false;
        }
        let close_after = ex.st.close_after;
        self.end_exchange(cx, proto, &CloseReason::Normal);
        if close_after {
            cx.close(CloseReason::Normal);
            return false;
        }
        cx.set_timeout(Some(proto.config.keepalive_timeout));
        cx.pause_rx(false);
        true
    }

    /// The exchange is over: its last event, then its state goes.
    fn end_exchange(
        &mut self,
        cx: &mut ConnCx<'_>,
        proto: &mut HttpProtocol<H>,
        why: &CloseReason,
    ) -> Option<Exchange> {
        self.emit(cx, proto, Ev::Closed(why));
        self.user = None;
        self.ex.take()
    }

    /// The handler asked to switch protocols: hand over the request.
    fn take_upgrade(
        &mut self,
        cx: &mut ConnCx<'_>,
        proto: &mut HttpProtocol<H>,
        rest: &[u8],
    ) -> Option<Disposition> {
        let protocol = self.ex.as_mut()?.st.upgrade.take()?;
        let ex = self.end_exchange(cx, proto, &CloseReason::Normal)?;
        cx.set_timeout(None);
        let carry = UpgradeRequest {
            request: ex.request,
            leftover: rest.to_vec(),
        };
        Some(Disposition::Rebind {
            protocol,
            carry: Box::new(carry),
        })
    }
}

/// Answer a request that cannot be served, and close.
fn reject(cx: &mut ConnCx<'_>, status: u16, why: &str) {
    let body = format!("{status} {}\n", crate::parse::response::reason(status));
    let mut out = Vec::with_capacity(160 + body.len());
    let headers = [("Content-Type", "text/plain; charset=utf-8")];
    write_head(
        &mut out,
        status,
        &headers,
        ResponseFraming::Length(body.len() as u64),
        true,
        None,
    );
    out.extend_from_slice(body.as_bytes());
    let _ = cx.write(&out);
    cx.close(CloseReason::Protocol(format!("{status}: {why}")));
}

impl<H: HttpHandler> Role for ServerRole<H> {
    fn name(&self) -> &'static str {
        "http1"
    }

    fn on_open(&mut self, cx: &mut ConnCx<'_>, p: &mut dyn Protocol) -> Disposition {
        if let Some(proto) = proto_of::<H>(p) {
            #[cfg(feature = "http2")]
            if proto.config.http2 && cx.alpn() == Some(b"h2") {
                let h2 = crate::h2::role::H2Role::<H>::new(Vec::new());
                return Disposition::Transition(Box::new(h2));
            }
            cx.set_timeout(Some(proto.config.header_timeout));
        }
        Disposition::Continue
    }

    fn on_rx(&mut self, cx: &mut ConnCx<'_>, p: &mut dyn Protocol, data: &[u8]) -> Disposition {
        match proto_of::<H>(p) {
            Some(proto) => self.input(cx, proto, data),
            None => Disposition::Close(CloseReason::Protocol(
                "http1 role on a foreign protocol".into(),
            )),
        }
    }

    fn on_writable(&mut self, cx: &mut ConnCx<'_>, p: &mut dyn Protocol) -> Disposition {
        let Some(proto) = proto_of::<H>(p) else {
            return Disposition::Continue;
        };
        if let Some(ex) = &mut self.ex
            && let RespState::File(send) = &mut ex.st.resp
        {
            match files::pump(send, cx) {
                Ok(true) => ex.st.resp = RespState::Done,
                Ok(false) => cx.request_writable(),
                Err(e) => {
                    log::debug!("{:?}: file send: {e}", cx.token());
                    cx.close(CloseReason::Normal);
                }
            }
        } else if let Some(ex) = &mut self.ex
            && std::mem::take(&mut ex.st.user_writable)
        {
            self.emit(cx, proto, Ev::Writable);
        }
        self.input(cx, proto, &[])
    }

    fn on_timeout(&mut self, cx: &mut ConnCx<'_>, _p: &mut dyn Protocol) -> Disposition {
        match &self.ex {
            None if self.head_started => reject(cx, 408, "request head timed out"),
            None => return Disposition::Close(CloseReason::Timeout),
            Some(ex) if !ex.st.body_done() && matches!(ex.st.resp, RespState::NotStarted) => {
                reject(cx, 408, "request body timed out")
            }
            Some(ex) if !ex.st.body_done() => return Disposition::Close(CloseReason::Timeout),
            Some(_) => {}
        }
        Disposition::Continue
    }

    fn on_close(&mut self, cx: &mut ConnCx<'_>, p: &mut dyn Protocol, reason: &CloseReason) {
        if let Some(proto) = proto_of::<H>(p) {
            self.end_exchange(cx, proto, reason);
        }
    }
}
