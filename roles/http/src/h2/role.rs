//! The HTTP/2 server role: binds an [`H2Conn`] to an lws connection and
//! runs each stream as one exchange of the vhost's [`HttpHandler`], with
//! its own exchange state, exactly as an HTTP/1 request (events `Request`,
//! `Body`, `BodyEnd`, `Writable`, `Closed`), and serves mounts itself.
//!
//! Output pacing: response DATA waits inside the connection for the
//! peer's flow-control windows, at most [`H2Config::max_parked`] bytes
//! per connection (one write may cross it). A stream is offered
//! `Writable` (and a streamed file its next chunk) only once its parked
//! DATA has left, the connection is under its cap, and the socket's own
//! output drained (the core's writable callback). At the cap,
//! `write_body` is refused with [`lws_core::Error::OutputLimit`] (as on
//! HTTP/1 when the socket is behind) and a `Writable` follows when room
//! frees up. While one more response as large as the largest so far
//! would not fit under the cap ([`H2Conn::may_start`]), new streams wait,
//! head parsed, before their handler or mount sees them, and streams not
//! yet answering get no body events, so no handler is asked for another
//! response body while the peer is not reading: a `respond` body is
//! parked whole (the handler's slice cannot be kept), so the bound is the
//! cap, crossed at most by one write or body. A paused stream (`pause_body`) holds its received DATA and
//! does not reopen its window, so the peer stops sending on that stream
//! only.
//!
//! Timeouts: with no stream, the keep-alive timeout; while a request body
//! is due, the body timeout; while DATA is parked and no DATA at all has
//! been sent for [`H2Config::send_stall_timeout`], the connection ends with
//! GOAWAY(ENHANCE_YOUR_CALM) (RFC 9113 §10.5: a peer that keeps its
//! windows closed while the server holds its responses). The stall clock
//! restarts only when DATA goes out, never on PING or other frames. After
//! any connection error (GOAWAY with an error code) the output is flushed
//! and the connection closed at once (§5.4.1), streams in progress or not.
//!
//! This module must not parse frames (that is `conn`) or touch sockets.

use std::collections::{BTreeMap, VecDeque};
use std::marker::PhantomData;
use std::time::Instant;

use lws_core::{CloseReason, ConnCx, Disposition, Protocol, Role};

use crate::h2::conn::{H2Config, H2Conn, H2Event};
pub(crate) use crate::h2::exchange::StreamCx;
use crate::h2::exchange::{H2Resp, StreamState, send_head};
use crate::h2::frame::{ErrorCode, PREFACE};
use crate::parse::{BodyFraming, RequestHead};
use crate::server::exchange::HttpCx;
use crate::server::files::{self, FileBody, FileReply};
use crate::server::method;
use crate::server::protocol::{Ev, HttpHandler, HttpProtocol, proto_of};
use crate::server::request::Request;

/// The HTTP/1 server's first bytes: while they match the HTTP/2 preface
/// (prior knowledge), hold them in `inbuf`; once it is whole, switch the
/// connection to HTTP/2 with them. `None`: go on as HTTP/1 (`fresh` is
/// then cleared).
pub(crate) fn prior_knowledge<H: HttpHandler>(
    fresh: &mut bool,
    inbuf: &mut Vec<u8>,
    cx: &mut ConnCx<'_>,
    proto: &HttpProtocol<H>,
    data: &[u8],
) -> Option<Disposition> {
    if !*fresh || !proto.config.http2 {
        return None;
    }
    // HTTP/2 with prior knowledge starts with the preface (which HTTP/1
    // would reject as version 2.0): hand the bytes over. While fresh,
    // `inbuf` holds only a matching part of it, so only `data` needs
    // comparing, and HTTP/1 input is not copied.
    let seen = inbuf.len();
    let n = (seen + data.len()).min(PREFACE.len());
    if data[..n - seen] == PREFACE[seen..n] {
        inbuf.extend_from_slice(data);
        if n == PREFACE.len() {
            cx.set_timeout(None);
            let all = std::mem::take(inbuf);
            return Some(Disposition::Transition(Box::new(H2Role::<H>::new(all))));
        }
        return Some(Disposition::Continue);
    }
    *fresh = false;
    None
}

/// Largest file chunk queued per stream at a time.
const CHUNK: usize = 64 * 1024;

/// Whether a stream can make progress on the next writable pass: its
/// parked DATA has left, and the connection has room for what it would
/// write (a file chunk, or whatever a handler writes on `Writable`).
/// `ready_to_write` and `service_writes` must agree on it, or writable
/// passes would spin without progress.
fn may_write(conn: &H2Conn, id: u32, st: &StreamState) -> bool {
    let room = match st.resp {
        H2Resp::File(_) => conn.may_park(CHUNK),
        _ if st.wants_writable => !conn.at_cap(),
        _ => false,
    };
    room && conn.pending(id) == 0 && conn.can_send(id)
}

/// One stream as the role keeps it.
struct Entry<S> {
    session: S,
    request: Option<Request>,
    st: StreamState,
    /// The handler sees this stream (not a mount or an error reply).
    handled: bool,
    body_done: bool,
    body_len: u64,
    /// DATA received while paused (or held at the cap), not delivered.
    held: VecDeque<Vec<u8>>,
    /// `BodyEnd` was delivered.
    end_delivered: bool,
    /// The request head of a stream that waits (the connection was at its
    /// parking cap) before its handler or mount sees it.
    waiting: Option<Result<RequestHead, u16>>,
}

impl<S> Entry<S> {
    /// Body events are held: paused by the handler, or not answering yet
    /// while new responses are held back (see [`H2Conn::may_start`]).
    fn holds(&self, held_back: bool) -> bool {
        self.waiting.is_some()
            || self.st.paused
            || (held_back && matches!(self.st.resp, H2Resp::NotStarted))
    }
}

pub(crate) struct H2Role<H: HttpHandler> {
    conn: Option<H2Conn>,
    /// Bytes the HTTP/1 role read before handing over (the preface).
    initial: Vec<u8>,
    streams: BTreeMap<u32, Entry<H::Exchange>>,
    /// Streams waiting for room under the parking cap, oldest first.
    waiting: VecDeque<u32>,
    /// Since when parked DATA has made no progress, and the DATA count
    /// then.
    stall: Option<(Instant, u64)>,
    _h: PhantomData<fn() -> H>,
}

impl<H: HttpHandler> H2Role<H> {
    pub fn new(initial: Vec<u8>) -> Self {
        H2Role {
            conn: None,
            initial,
            streams: BTreeMap::new(),
            waiting: VecDeque::new(),
            stall: None,
            _h: PhantomData,
        }
    }

    fn emit(&mut self, cx: &mut ConnCx<'_>, proto: &mut HttpProtocol<H>, id: u32, ev: Ev<'_>) {
        let (Some(conn), Some(e)) = (self.conn.as_mut(), self.streams.get_mut(&id)) else {
            return;
        };
        if !e.handled {
            return;
        }
        let req = e.request.as_ref();
        let Some(event) = ev.resolve(req) else { return };
        let mut hcx = HttpCx {
            conn: cx,
            req,
            st: None,
            h2: Some(StreamCx {
                conn,
                id,
                st: &mut e.st,
            }),
        };
        proto.handler.on_event(&mut hcx, &mut e.session, event);
    }

    /// Send what the connection queued; a full output buffer closes.
    fn flush(&mut self, cx: &mut ConnCx<'_>) {
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        let out = conn.take_output();
        if !out.is_empty()
            && let Err(e) = cx.write(&out)
        {
            log::debug!("{:?}: HTTP/2 output: {e}", cx.token());
            cx.close(CloseReason::OutputOverflow);
        }
    }

    fn events(&mut self, cx: &mut ConnCx<'_>, proto: &mut HttpProtocol<H>) {
        while let Some(ev) = self.conn.as_mut().and_then(H2Conn::next_event) {
            match ev {
                H2Event::Request { stream, head } => self.begin(cx, proto, stream, head),
                H2Event::Data { stream, data } => self.body(cx, proto, stream, data),
                H2Event::End { stream } => {
                    let held_back = self.held_back();
                    if let Some(e) = self.streams.get_mut(&stream) {
                        e.body_done = true;
                        if e.held.is_empty() && !e.holds(held_back) {
                            e.end_delivered = true;
                            self.emit(cx, proto, stream, Ev::BodyEnd);
                        }
                    }
                }
                H2Event::Reset { stream, code } => {
                    let why = CloseReason::Protocol(format!("stream reset: {}", code.name()));
                    self.emit(cx, proto, stream, Ev::Closed(&why));
                    self.streams.remove(&stream);
                }
                H2Event::WindowOpened => {}
            }
        }
    }

    /// New responses wait: the connection parks too much already.
    fn held_back(&self) -> bool {
        self.conn.as_ref().is_some_and(|c| !c.may_start())
    }

    /// A new stream: begun now, or made to wait while the connection is
    /// at its parking cap.
    fn begin(
        &mut self,
        cx: &mut ConnCx<'_>,
        proto: &mut HttpProtocol<H>,
        id: u32,
        head: Result<RequestHead, u16>,
    ) {
        let mut entry = Entry {
            session: H::Exchange::default(),
            request: None,
            st: StreamState {
                resp: H2Resp::NotStarted,
                wants_writable: false,
                paused: false,
            },
            handled: false,
            body_done: false,
            body_len: 0,
            held: VecDeque::new(),
            end_delivered: false,
            waiting: None,
        };
        if self.held_back() {
            entry.waiting = Some(head);
            self.streams.insert(id, entry);
            self.waiting.push_back(id);
            return;
        }
        self.start(cx, proto, id, entry, head);
    }

    /// Begin waiting streams, oldest first, while there is room.
    fn start_waiting(&mut self, cx: &mut ConnCx<'_>, proto: &mut HttpProtocol<H>) {
        while !self.held_back() {
            let Some(id) = self.waiting.pop_front() else {
                return;
            };
            let Some(mut entry) = self.streams.remove(&id) else {
                continue; // reset meanwhile
            };
            let Some(head) = entry.waiting.take() else {
                self.streams.insert(id, entry);
                continue;
            };
            self.start(cx, proto, id, entry, head);
        }
    }

    /// Route a stream to an error reply, a mount or the handler.
    fn start(
        &mut self,
        cx: &mut ConnCx<'_>,
        proto: &mut HttpProtocol<H>,
        id: u32,
        mut entry: Entry<H::Exchange>,
        head: Result<RequestHead, u16>,
    ) {
        let request = match head {
            Ok(h) if matches!(h.framing, BodyFraming::Length(n) if n > proto.config.max_body) => {
                self.streams.insert(id, entry);
                return self.error_reply(id, 413);
            }
            Ok(h) => Request { head: h },
            Err(status) => {
                self.streams.insert(id, entry);
                return self.error_reply(id, status);
            }
        };
        if let Some(status) = method::refusal(request.method(), &proto.config) {
            self.streams.insert(id, entry);
            return self.error_reply(id, status);
        }
        if let Some(reply) = files::mount_reply(&proto.mounts, &request) {
            entry.request = Some(request);
            self.streams.insert(id, entry);
            return self.file_reply(id, reply);
        }
        entry.request = Some(request);
        entry.handled = true;
        self.streams.insert(id, entry);
        self.emit(cx, proto, id, Ev::Request);
    }

    /// Answer a stream with a short error status.
    fn error_reply(&mut self, id: u32, status: u16) {
        self.file_reply(id, files::error(status, Vec::new()));
    }

    /// Send a reply decided by the files module (file or error).
    fn file_reply(&mut self, id: u32, reply: FileReply) {
        let (Some(conn), Some(e)) = (self.conn.as_mut(), self.streams.get_mut(&id)) else {
            return;
        };
        let length = reply.length.filter(|_| reply.status != 304);
        let no_body = matches!(reply.body, FileBody::None);
        let sent = send_head(
            conn,
            id,
            reply.status,
            &reply.header_refs(),
            length,
            no_body,
        );
        e.st.resp = match (sent, reply.body) {
            (Ok(()), FileBody::Inline(b)) => match conn.send_data(id, &b, true) {
                Ok(()) | Err(_) => H2Resp::Done,
            },
            (Ok(()), FileBody::Stream(send)) => H2Resp::File(send),
            _ => H2Resp::Done,
        };
    }

    fn body(&mut self, cx: &mut ConnCx<'_>, proto: &mut HttpProtocol<H>, id: u32, data: Vec<u8>) {
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        if let Some(e) = self.streams.get_mut(&id).filter(|e| e.waiting.is_some()) {
            // Not begun yet: kept, its window closed, until it starts.
            e.body_len += data.len() as u64;
            e.held.push_back(data);
            return;
        }
        let Some(e) = self.streams.get_mut(&id).filter(|e| e.handled) else {
            conn.release(id, data.len()); // not read by anyone
            return;
        };
        e.body_len += data.len() as u64;
        if e.body_len > proto.config.max_body {
            conn.release(id, data.len());
            e.handled = false;
            match e.st.resp {
                H2Resp::NotStarted => self.error_reply(id, 413),
                _ => conn.reset(id, ErrorCode::Cancel),
            }
            return;
        }
        if e.holds(!conn.may_start()) || !e.held.is_empty() {
            e.held.push_back(data);
            return;
        }
        let n = data.len();
        self.emit(cx, proto, id, Ev::Body(&data));
        if let Some(conn) = self.conn.as_mut() {
            conn.release(id, n);
        }
    }

    /// Deliver body events held while streams were paused or the
    /// connection at its cap, now that they no longer are.
    fn drain_held(&mut self, cx: &mut ConnCx<'_>, proto: &mut HttpProtocol<H>) {
        let at_cap = self.held_back();
        let ready: Vec<u32> = self
            .streams
            .iter()
            .filter(|(_, e)| {
                !e.holds(at_cap) && !e.held.is_empty() || e.body_done && !e.end_delivered
            })
            .map(|(id, _)| *id)
            .collect();
        for id in ready {
            loop {
                let held_back = self.held_back();
                let Some(chunk) = self
                    .streams
                    .get_mut(&id)
                    .filter(|e| !e.holds(held_back))
                    .and_then(|e| e.held.pop_front())
                else {
                    break;
                };
                self.emit(cx, proto, id, Ev::Body(&chunk));
                if let Some(conn) = self.conn.as_mut() {
                    conn.release(id, chunk.len());
                }
            }
            let held_back = self.held_back();
            if let Some(e) = self.streams.get_mut(&id)
                && e.held.is_empty()
                && e.body_done
                && !e.end_delivered
                && !e.holds(held_back)
            {
                e.end_delivered = true;
                self.emit(cx, proto, id, Ev::BodyEnd);
            }
        }
    }

    /// Whether a stream can make progress once the socket drains.
    fn ready_to_write(&self) -> bool {
        let Some(conn) = self.conn.as_ref() else {
            return false;
        };
        self.streams
            .iter()
            .any(|(id, e)| may_write(conn, *id, &e.st))
    }

    /// The socket drained: next file chunks, and `Writable` for streams
    /// that asked and whose queued DATA has left.
    fn service_writes(&mut self, cx: &mut ConnCx<'_>, proto: &mut HttpProtocol<H>) {
        let mut writable = Vec::new();
        if let Some(conn) = self.conn.as_mut() {
            for (id, e) in self.streams.iter_mut() {
                if !may_write(conn, *id, &e.st) {
                    continue;
                }
                if let H2Resp::File(send) = &mut e.st.resp {
                    match send.next_chunk(CHUNK) {
                        Ok(Some(c)) => {
                            let last = send.remaining() == 0;
                            if conn.send_data(*id, &c, last).is_err() || last {
                                e.st.resp = H2Resp::Done;
                            }
                        }
                        Ok(None) => {
                            let _ = conn.send_data(*id, &[], true);
                            e.st.resp = H2Resp::Done;
                        }
                        Err(err) => {
                            log::debug!("HTTP/2 stream {id}: file send: {err}");
                            conn.reset(*id, ErrorCode::Internal);
                            e.st.resp = H2Resp::Done;
                        }
                    }
                } else {
                    e.st.wants_writable = false;
                    writable.push(*id);
                }
            }
        }
        for id in writable {
            self.emit(cx, proto, id, Ev::Writable);
        }
    }

    /// Forget streams whose exchange is over (both directions done).
    fn reap(&mut self, cx: &mut ConnCx<'_>, proto: &mut HttpProtocol<H>) {
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        let mut done = Vec::new();
        for (id, e) in &self.streams {
            let resp_done = matches!(e.st.resp, H2Resp::Done) && conn.pending(*id) == 0;
            if !resp_done {
                continue;
            }
            if !e.body_done && conn.can_send(*id) {
                continue;
            }
            if !e.body_done {
                // Answered before the request body ended: stop the upload
                // (RFC 9113 §8.1).
                conn.reset(*id, ErrorCode::NoError);
            }
            done.push(*id);
        }
        for id in done {
            self.emit(cx, proto, id, Ev::Closed(&CloseReason::Normal));
            self.streams.remove(&id);
        }
    }

    /// After any input or output step: flush, keep timeouts and writable
    /// interest right, close when the connection is finished.
    fn settle(&mut self, cx: &mut ConnCx<'_>, proto: &mut HttpProtocol<H>) -> Disposition {
        self.start_waiting(cx, proto);
        self.drain_held(cx, proto);
        self.reap(cx, proto);
        self.flush(cx);
        if self.ready_to_write() {
            cx.request_writable();
        }
        let Some(conn) = self.conn.as_ref() else {
            return Disposition::Continue;
        };
        if conn.failed() {
            return Disposition::Close(CloseReason::Protocol("HTTP/2 connection error".into()));
        }
        if conn.finished() {
            return Disposition::Close(CloseReason::Normal);
        }
        // The stall clock runs while DATA is parked and none goes out.
        self.stall = match self.stall {
            _ if conn.parked() == 0 => None,
            Some((since, sent)) if sent == conn.data_sent() => Some((since, sent)),
            _ => Some((cx.now(), conn.data_sent())),
        };
        if cx.is_closing() {
            // Closing via GOAWAY: the core's close timeout bounds the drain.
            return Disposition::Continue;
        }
        // Paused streams stall by the handler's choice, not the client's,
        // and streams held at the cap by the server's.
        let held_back = !conn.may_start();
        let uploading = self
            .streams
            .values()
            .any(|e| !e.body_done && !e.holds(held_back));
        let idle = match (self.streams.is_empty(), uploading) {
            (true, _) => Some(proto.config.keepalive_timeout),
            (false, true) => Some(proto.config.body_timeout),
            (false, false) => None,
        };
        let stall = self.stall_left(cx, &proto.config.h2);
        cx.set_timeout(match (idle, stall) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        });
        Disposition::Continue
    }

    /// Time left before the send-stall timeout, if the clock runs.
    fn stall_left(&self, cx: &ConnCx<'_>, cfg: &H2Config) -> Option<std::time::Duration> {
        let (since, _) = self.stall?;
        Some((since + cfg.send_stall_timeout).saturating_duration_since(cx.now()))
    }

    fn input(
        &mut self,
        cx: &mut ConnCx<'_>,
        proto: &mut HttpProtocol<H>,
        data: &[u8],
    ) -> Disposition {
        let Some(conn) = self.conn.as_mut() else {
            return Disposition::Continue;
        };
        let r = conn.receive(data);
        self.events(cx, proto);
        if let Err(e) = r {
            log::debug!("{:?}: {e}", cx.token());
            self.flush(cx);
            return Disposition::Close(CloseReason::Protocol(e.to_string()));
        }
        self.settle(cx, proto)
    }
}

impl<H: HttpHandler> Role for H2Role<H> {
    fn name(&self) -> &'static str {
        "h2"
    }

    fn on_open(&mut self, cx: &mut ConnCx<'_>, p: &mut dyn Protocol) -> Disposition {
        let Some(proto) = proto_of::<H>(p) else {
            return Disposition::Close(CloseReason::Protocol(
                "h2 role on a foreign protocol".into(),
            ));
        };
        let mut cfg = proto.config.h2;
        cfg.head.max_uri = proto.config.limits.max_uri;
        cfg.head.max_headers = proto.config.limits.max_headers;
        self.conn = Some(H2Conn::new(cfg));
        let initial = std::mem::take(&mut self.initial);
        self.input(cx, proto, &initial)
    }

    fn on_rx(&mut self, cx: &mut ConnCx<'_>, p: &mut dyn Protocol, data: &[u8]) -> Disposition {
        match proto_of::<H>(p) {
            Some(proto) => self.input(cx, proto, data),
            None => Disposition::Close(CloseReason::Protocol(
                "h2 role on a foreign protocol".into(),
            )),
        }
    }

    fn on_writable(&mut self, cx: &mut ConnCx<'_>, p: &mut dyn Protocol) -> Disposition {
        let Some(proto) = proto_of::<H>(p) else {
            return Disposition::Continue;
        };
        self.service_writes(cx, proto);
        self.settle(cx, proto)
    }

    fn on_timeout(&mut self, cx: &mut ConnCx<'_>, p: &mut dyn Protocol) -> Disposition {
        let stalled = proto_of::<H>(p)
            .and_then(|proto| self.stall_left(cx, &proto.config.h2))
            .is_some_and(|left| left.is_zero());
        if let Some(conn) = self.conn.as_mut() {
            if stalled {
                log::debug!("{:?}: HTTP/2 sends stalled on flow control", cx.token());
                conn.fail(ErrorCode::EnhanceYourCalm, "send stalled on flow control");
                self.flush(cx);
                return Disposition::Close(CloseReason::Protocol(
                    "HTTP/2 sends stalled on flow control".into(),
                ));
            }
            conn.shutdown();
        }
        self.flush(cx);
        Disposition::Close(CloseReason::Timeout)
    }

    /// Graceful close (e.g. the context stopping): GOAWAY(NO_ERROR), new
    /// streams refused, streams in progress finish (within the vhost's
    /// close timeout); the connection closes when the last one has.
    fn close_via_protocol(
        &mut self,
        cx: &mut ConnCx<'_>,
        _p: &mut dyn Protocol,
        _r: &CloseReason,
    ) -> bool {
        let Some(conn) = self.conn.as_mut() else {
            return false;
        };
        if conn.failed() {
            // GOAWAY with an error code went out: flush and close now
            // (RFC 9113 §5.4.1), whatever streams were in progress.
            self.flush(cx);
            return false;
        }
        conn.shutdown();
        self.flush(cx);
        !self.streams.is_empty()
    }

    fn on_close(&mut self, cx: &mut ConnCx<'_>, p: &mut dyn Protocol, reason: &CloseReason) {
        let Some(proto) = proto_of::<H>(p) else {
            return;
        };
        let ids: Vec<u32> = self.streams.keys().copied().collect();
        for id in ids {
            self.emit(cx, proto, id, Ev::Closed(reason));
        }
        self.streams.clear();
    }
}
