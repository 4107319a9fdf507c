//! The HTTP/2 server role: binds an [`H2Conn`] to an lws connection and
//! runs each stream as one exchange of the vhost's [`HttpHandler`], with
//! its own exchange state, exactly as an HTTP/1 request (events `Request`,
//! `Body`, `BodyEnd`, `Writable`, `Closed`), and serves mounts itself.
//!
//! Output pacing: response DATA waits inside the connection for the
//! peer's flow-control windows; a stream is offered `Writable` (and a
//! streamed file its next chunk) only once its queued DATA has left, and
//! only when the socket's own output drained (the core's writable
//! callback), so memory stays bounded by one chunk per stream. A paused
//! stream (`pause_body`) holds its received DATA and does not reopen its
//! window, so the peer stops sending on that stream only.
//!
//! This module must not parse frames (that is `conn`) or touch sockets.

use std::collections::{BTreeMap, VecDeque};
use std::marker::PhantomData;

use lws_core::{CloseReason, ConnCx, Disposition, Protocol, Role};

use crate::h2::conn::{H2Conn, H2Event, StreamGone};
use crate::h2::frame::ErrorCode;
use crate::parse::{BodyFraming, RequestHead};
use crate::server::exchange::{HttpCx, HttpError};
use crate::server::files::{self, FileBody, FileReply, FileSend};
use crate::server::method;
use crate::server::protocol::{Ev, HttpHandler, HttpProtocol, proto_of};
use crate::server::request::Request;

/// Largest file chunk queued per stream at a time.
const CHUNK: usize = 64 * 1024;

/// Where a stream's response stands.
#[derive(Debug)]
pub(crate) enum H2Resp {
    NotStarted,
    Streaming { remaining: Option<u64> },
    File(FileSend),
    Done,
}

/// The response side of one stream, as `HttpCx` drives it.
#[derive(Debug)]
pub(crate) struct StreamState {
    resp: H2Resp,
    wants_writable: bool,
    paused: bool,
}

/// What `HttpCx` holds for an HTTP/2 exchange.
pub(crate) struct StreamCx<'c> {
    conn: &'c mut H2Conn,
    id: u32,
    st: &'c mut StreamState,
}

/// Queue a response head: `headers` without any `content-length` of
/// theirs (the library frames), plus `content-length: length` when given;
/// END_STREAM when `no_body`.
fn send_head(
    conn: &mut H2Conn,
    id: u32,
    status: u16,
    headers: &[(&str, &str)],
    length: Option<u64>,
    no_body: bool,
) -> Result<(), StreamGone> {
    let len = length.map(|n| n.to_string());
    let mut fields: Vec<(&str, &str)> = headers
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("content-length"))
        .copied()
        .collect();
    if let Some(l) = &len {
        fields.push(("content-length", l));
    }
    conn.send_head(id, status, &fields, no_body)
}

impl StreamCx<'_> {
    pub fn id(&self) -> u32 {
        self.id
    }

    pub fn respond(
        &mut self,
        req: &Request,
        status: u16,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<(), HttpError> {
        if !matches!(self.st.resp, H2Resp::NotStarted) {
            return Err(HttpError::AlreadyResponded);
        }
        let length = (status >= 200 && status != 204 && status != 304).then_some(body.len() as u64);
        let no_body = req.bodiless_response(status) || body.is_empty();
        send_head(self.conn, self.id, status, headers, length, no_body)?;
        if !no_body {
            self.conn.send_data(self.id, body, true)?;
        }
        self.st.resp = H2Resp::Done;
        Ok(())
    }

    pub fn start_response(
        &mut self,
        req: &Request,
        status: u16,
        headers: &[(&str, &str)],
        length: Option<u64>,
    ) -> Result<(), HttpError> {
        if !matches!(self.st.resp, H2Resp::NotStarted) {
            return Err(HttpError::AlreadyResponded);
        }
        let no_body = req.bodiless_response(status) || length == Some(0);
        send_head(self.conn, self.id, status, headers, length, no_body)?;
        self.st.resp = match no_body {
            true => H2Resp::Done,
            false => H2Resp::Streaming { remaining: length },
        };
        Ok(())
    }

    pub fn write_body(&mut self, data: &[u8]) -> Result<(), HttpError> {
        let H2Resp::Streaming { remaining } = &mut self.st.resp else {
            return Err(HttpError::NotStreaming);
        };
        if data.is_empty() {
            return Ok(());
        }
        if let Some(left) = remaining {
            let n = data.len() as u64;
            if n > *left {
                return Err(HttpError::BodyTooLong { excess: n - *left });
            }
            *left -= n;
        }
        self.conn.send_data(self.id, data, false)?;
        Ok(())
    }

    pub fn finish(&mut self) -> Result<(), HttpError> {
        let H2Resp::Streaming { remaining } = self.st.resp else {
            return Err(HttpError::NotStreaming);
        };
        self.st.resp = H2Resp::Done;
        if let Some(missing) = remaining.filter(|m| *m > 0) {
            // The peer would wait for bytes that never come.
            self.conn.reset(self.id, ErrorCode::Internal);
            return Err(HttpError::BodyIncomplete { missing });
        }
        self.conn.send_data(self.id, &[], true)?;
        Ok(())
    }

    pub fn request_writable(&mut self) {
        self.st.wants_writable = true;
    }

    pub fn pause_body(&mut self, paused: bool) {
        self.st.paused = paused;
    }

    pub fn response_done(&self) -> bool {
        matches!(self.st.resp, H2Resp::Done)
    }

    /// Reset the stream unless its response is complete.
    pub fn cancel(&mut self) {
        if !self.response_done() {
            self.conn.reset(self.id, ErrorCode::Cancel);
            self.st.resp = H2Resp::Done;
        }
    }
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
    /// DATA received while paused, not yet delivered.
    held: VecDeque<Vec<u8>>,
}

pub(crate) struct H2Role<H: HttpHandler> {
    conn: Option<H2Conn>,
    /// Bytes the HTTP/1 role read before handing over (the preface).
    initial: Vec<u8>,
    streams: BTreeMap<u32, Entry<H::Exchange>>,
    _h: PhantomData<fn() -> H>,
}

impl<H: HttpHandler> H2Role<H> {
    pub fn new(initial: Vec<u8>) -> Self {
        H2Role {
            conn: None,
            initial,
            streams: BTreeMap::new(),
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
                    if let Some(e) = self.streams.get_mut(&stream) {
                        e.body_done = true;
                        if e.held.is_empty() {
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
        };
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
        if e.st.paused || !e.held.is_empty() {
            e.held.push_back(data);
            return;
        }
        let n = data.len();
        self.emit(cx, proto, id, Ev::Body(&data));
        if let Some(conn) = self.conn.as_mut() {
            conn.release(id, n);
        }
    }

    /// Deliver DATA held while streams were paused, now unpaused.
    fn drain_held(&mut self, cx: &mut ConnCx<'_>, proto: &mut HttpProtocol<H>) {
        let ready: Vec<u32> = self
            .streams
            .iter()
            .filter(|(_, e)| !e.st.paused && !e.held.is_empty())
            .map(|(id, _)| *id)
            .collect();
        for id in ready {
            while let Some(chunk) = self
                .streams
                .get_mut(&id)
                .filter(|e| !e.st.paused)
                .and_then(|e| e.held.pop_front())
            {
                self.emit(cx, proto, id, Ev::Body(&chunk));
                if let Some(conn) = self.conn.as_mut() {
                    conn.release(id, chunk.len());
                }
            }
            if self
                .streams
                .get(&id)
                .is_some_and(|e| e.held.is_empty() && e.body_done)
            {
                self.emit(cx, proto, id, Ev::BodyEnd);
            }
        }
    }

    /// Whether a stream can make progress once the socket drains.
    fn ready_to_write(&self) -> bool {
        let Some(conn) = self.conn.as_ref() else {
            return false;
        };
        self.streams.iter().any(|(id, e)| {
            (e.st.wants_writable || matches!(e.st.resp, H2Resp::File(_)))
                && conn.pending(*id) == 0
                && conn.can_send(*id)
        })
    }

    /// The socket drained: next file chunks, and `Writable` for streams
    /// that asked and whose queued DATA has left.
    fn service_writes(&mut self, cx: &mut ConnCx<'_>, proto: &mut HttpProtocol<H>) {
        let mut writable = Vec::new();
        if let Some(conn) = self.conn.as_mut() {
            for (id, e) in self.streams.iter_mut() {
                if conn.pending(*id) > 0 || !conn.can_send(*id) {
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
                } else if e.st.wants_writable {
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
        self.drain_held(cx, proto);
        self.reap(cx, proto);
        self.flush(cx);
        if self.ready_to_write() {
            cx.request_writable();
        }
        let Some(conn) = self.conn.as_ref() else {
            return Disposition::Continue;
        };
        if conn.finished() {
            return Disposition::Close(CloseReason::Normal);
        }
        if cx.is_closing() {
            // Closing via GOAWAY: the core's close timeout bounds the drain.
            return Disposition::Continue;
        }
        // Paused streams stall by the handler's choice, not the client's.
        let uploading = self.streams.values().any(|e| !e.body_done && !e.st.paused);
        cx.set_timeout(match (self.streams.is_empty(), uploading) {
            (true, _) => Some(proto.config.keepalive_timeout),
            (false, true) => Some(proto.config.body_timeout),
            (false, false) => None,
        });
        Disposition::Continue
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

    fn on_timeout(&mut self, cx: &mut ConnCx<'_>, _p: &mut dyn Protocol) -> Disposition {
        if let Some(conn) = self.conn.as_mut() {
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
