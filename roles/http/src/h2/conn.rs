//! The HTTP/2 server connection as a sans-IO state machine (RFC 9113):
//! bytes in, [`H2Event`]s and bytes out.
//!
//! It checks the connection preface, reads frames, enforces the frame and
//! stream-state rules (§4-§6), assembles header blocks across CONTINUATION
//! frames and decodes them with HPACK ([`hpack`](crate::h2::hpack); responses are
//! encoded with the `loona-hpack` crate), turns
//! request header lists into validated heads, keeps both directions' flow
//! control windows, and queues response HEADERS and DATA, releasing DATA as
//! the peer's windows allow. A connection error writes GOAWAY and returns
//! [`ConnError`]; a stream error writes RST_STREAM and reports
//! [`H2Event::Reset`].
//!
//! It must not touch sockets, timers or user code: the role drives it.

use std::collections::{BTreeMap, VecDeque};

use loona_hpack::Encoder;

use crate::h2::frame::{self, ErrorCode, FrameHead, HEAD_LEN, flag, kind, setting};
use crate::h2::hpack::HpackDecoder;
use crate::h2::request::{self, CONNECTION_SPECIFIC, HeadLimits, Malformed};
use crate::parse::{BodyFraming, RequestHead};

/// Connection limits and windows.
#[derive(Clone, Copy, Debug)]
pub struct H2Config {
    /// SETTINGS_MAX_CONCURRENT_STREAMS: streams beyond it are refused.
    pub max_concurrent_streams: u32,
    /// The receive window of each stream (SETTINGS_INITIAL_WINDOW_SIZE).
    pub stream_window: u32,
    /// The connection's receive window.
    pub conn_window: u32,
    /// Largest header block (all its frames) accepted before the
    /// connection is closed with ENHANCE_YOUR_CALM.
    pub max_header_block: usize,
    /// Largest decoded header list; larger requests get 431.
    pub max_header_list: usize,
    pub head: HeadLimits,
}

impl Default for H2Config {
    fn default() -> Self {
        H2Config {
            max_concurrent_streams: 100,
            stream_window: 256 * 1024,
            conn_window: 1024 * 1024,
            max_header_block: 64 * 1024,
            max_header_list: 16 * 1024,
            head: HeadLimits {
                max_uri: 8 * 1024,
                max_headers: 100,
            },
        }
    }
}

/// What the peer did, for the role.
#[derive(Debug)]
pub enum H2Event {
    /// A request head on a new stream; `Err(status)` when the request is
    /// valid HTTP/2 but must be answered with that error status.
    Request {
        stream: u32,
        head: Result<RequestHead, u16>,
    },
    /// Request body bytes; hand back with [`H2Conn::release`] once used.
    Data { stream: u32, data: Vec<u8> },
    /// The request body is complete.
    End { stream: u32 },
    /// The stream is gone (reset by the peer, or by us for a stream
    /// error); forget it.
    Reset { stream: u32, code: ErrorCode },
    /// A send window grew: queued DATA may have gone out; streams waiting
    /// to write can try again.
    WindowOpened,
}

/// A connection error: GOAWAY was written with `code`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("HTTP/2 {}: {why}", code.name())]
pub struct ConnError {
    pub code: ErrorCode,
    pub why: &'static str,
}

fn err<T>(code: ErrorCode, why: &'static str) -> Result<T, ConnError> {
    Err(ConnError { code, why })
}

/// A frame's payload without its padding (RFC 9113 §6.1).
fn unpadded<'p>(h: &FrameHead, payload: &'p [u8]) -> Result<&'p [u8], ConnError> {
    frame::unpad(h, payload).ok_or(ConnError {
        code: ErrorCode::Protocol,
        why: "padding longer than the frame",
    })
}

/// The stream is closed (or reset) for sending.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("HTTP/2 stream {0} is closed")]
pub struct StreamGone(pub u32);

#[derive(Debug)]
struct Stream {
    /// END_STREAM received.
    recv_closed: bool,
    /// END_STREAM sent (or queued behind `pending`).
    send_closed: bool,
    send_window: i64,
    recv_window: i64,
    unreleased: u32,
    content_length: Option<u64>,
    received: u64,
    /// Response DATA waiting for window.
    pending: VecDeque<u8>,
    end_pending: bool,
    /// A response head was queued (later HEADERS are trailers).
    head_sent: bool,
}

/// A header block being assembled from HEADERS + CONTINUATION.
#[derive(Debug)]
struct Block {
    stream: u32,
    end_stream: bool,
    buf: Vec<u8>,
    /// Frames in the block so far (empty CONTINUATIONs cost no bytes).
    frames: u32,
    /// What to do once decoded.
    then: BlockUse,
}

/// Most frames one header block may span.
const MAX_BLOCK_FRAMES: u32 = 64;
/// Peer resets tolerated before checking for a rapid-reset attack
/// (CVE-2023-44487): beyond it, more than half of all streams reset by
/// the peer ends the connection with ENHANCE_YOUR_CALM.
const RESET_ALLOWANCE: u32 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockUse {
    NewStream,
    Trailers,
    /// Decode (to keep HPACK in step), then reset with this code.
    Reset(ErrorCode),
    /// Decode, then treat as a connection error (closed stream).
    Fatal(ErrorCode),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Preface,
    FirstSettings,
    Open,
    /// A connection error was sent; everything else is ignored.
    Dead,
}

pub struct H2Conn {
    cfg: H2Config,
    state: State,
    inbuf: Vec<u8>,
    out: Vec<u8>,
    dec: HpackDecoder,
    enc: Encoder<'static>,
    peer_initial_window: i64,
    peer_max_frame: usize,
    send_window: i64,
    recv_window: i64,
    unreleased: u32,
    streams: BTreeMap<u32, Stream>,
    last_stream: u32,
    block: Option<Block>,
    events: VecDeque<H2Event>,
    peer_goaway: bool,
    goaway_sent: bool,
    /// The last streams closed, to tell a frame on a closed stream
    /// (STREAM_CLOSED) from a reused or skipped identifier
    /// (PROTOCOL_ERROR).
    recently_closed: VecDeque<u32>,
    /// Streams opened, and how many of them the peer reset.
    opened: u32,
    peer_resets: u32,
}

/// How many closed stream identifiers are remembered.
const RECENTLY_CLOSED: usize = 128;

impl std::fmt::Debug for H2Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H2Conn")
            .field("state", &self.state)
            .field("streams", &self.streams.len())
            .field("last_stream", &self.last_stream)
            .finish_non_exhaustive()
    }
}

impl H2Conn {
    /// A server connection; its SETTINGS (and connection window update)
    /// are queued at once, as the server preface.
    pub fn new(cfg: H2Config) -> Self {
        let mut enc = Encoder::new();
        // Never index: the peer's table size can then never be exceeded,
        // whatever SETTINGS_HEADER_TABLE_SIZE it sends.
        enc.set_max_table_size(0);
        let mut c = H2Conn {
            cfg,
            state: State::Preface,
            inbuf: Vec::new(),
            out: Vec::new(),
            dec: HpackDecoder::new(4096),
            enc,
            peer_initial_window: frame::DEFAULT_WINDOW,
            peer_max_frame: frame::DEFAULT_MAX_FRAME as usize,
            send_window: frame::DEFAULT_WINDOW,
            recv_window: i64::from(cfg.conn_window),
            unreleased: 0,
            streams: BTreeMap::new(),
            last_stream: 0,
            block: None,
            events: VecDeque::new(),
            peer_goaway: false,
            goaway_sent: false,
            recently_closed: VecDeque::new(),
            opened: 0,
            peer_resets: 0,
        };
        frame::write_settings(
            &mut c.out,
            &[
                (setting::MAX_CONCURRENT_STREAMS, cfg.max_concurrent_streams),
                (setting::INITIAL_WINDOW_SIZE, cfg.stream_window),
                (setting::MAX_HEADER_LIST_SIZE, cfg.max_header_list as u32),
                (setting::ENABLE_PUSH, 0),
            ],
        );
        let extra = i64::from(cfg.conn_window) - frame::DEFAULT_WINDOW;
        if extra > 0 {
            frame::write_window_update(&mut c.out, 0, extra as u32);
        }
        c
    }

    /// Feed received bytes. On a connection error GOAWAY is queued, the
    /// error returned, and later input ignored: flush the output, close.
    pub fn receive(&mut self, data: &[u8]) -> Result<(), ConnError> {
        if self.state == State::Dead {
            return Ok(());
        }
        // Frames are read in place from `data`; only an incomplete frame
        // (or preface) is kept for the next call.
        let r = if self.inbuf.is_empty() {
            let (used, r) = self.process(data);
            self.inbuf.extend_from_slice(&data[used..]);
            r
        } else {
            let mut buf = std::mem::take(&mut self.inbuf);
            buf.extend_from_slice(data);
            let (used, r) = self.process(&buf);
            buf.drain(..used);
            self.inbuf = buf;
            r
        };
        if let Err(e) = &r {
            self.block = None;
            frame::write_goaway(&mut self.out, self.last_stream, e.code, e.why.as_bytes());
            self.goaway_sent = true;
            self.state = State::Dead;
            self.inbuf = Vec::new();
        }
        r
    }

    pub fn next_event(&mut self) -> Option<H2Event> {
        self.events.pop_front()
    }

    /// Bytes to send.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    pub fn has_output(&self) -> bool {
        !self.out.is_empty()
    }

    /// The connection has nothing left to do: it failed, or the peer sent
    /// GOAWAY (or we did) and every stream finished.
    pub fn finished(&self) -> bool {
        self.state == State::Dead
            || ((self.peer_goaway || self.goaway_sent) && self.streams.is_empty())
    }

    /// Streams not yet finished.
    pub fn active_streams(&self) -> usize {
        self.streams.len()
    }

    /// Queue a response head. `end`: no body follows.
    pub fn send_head(
        &mut self,
        stream: u32,
        status: u16,
        headers: &[(&str, &str)],
        end: bool,
    ) -> Result<(), StreamGone> {
        let max_frame = self.peer_max_frame;
        let s = self.open_for_send(stream)?;
        s.head_sent = true;
        let status = status.to_string();
        let lower: Vec<(String, &str)> = headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), *v))
            .filter(|(n, _)| !CONNECTION_SPECIFIC.contains(&n.as_str()))
            .collect();
        let fields = std::iter::once((&b":status"[..], status.as_bytes()))
            .chain(lower.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())));
        let block = self.enc.encode(fields);
        frame::write_headers(&mut self.out, stream, &block, end, max_frame);
        if end {
            self.end_sent(stream);
        }
        Ok(())
    }

    /// Queue response body bytes (`end`: the last). They go out as the
    /// stream's and the connection's send windows allow.
    pub fn send_data(&mut self, stream: u32, data: &[u8], end: bool) -> Result<(), StreamGone> {
        let s = self.open_for_send(stream)?;
        s.pending.extend(data);
        if end {
            s.end_pending = true;
            s.send_closed = true;
        }
        self.flush_stream(stream);
        Ok(())
    }

    /// Response bytes queued on `stream` but not yet sent (window).
    pub fn pending(&self, stream: u32) -> usize {
        self.streams.get(&stream).map_or(0, |s| s.pending.len())
    }

    /// Whether `stream` can still take response bytes.
    pub fn can_send(&self, stream: u32) -> bool {
        self.streams.get(&stream).is_some_and(|s| !s.send_closed)
    }

    /// `n` request body bytes of `stream` were consumed: open the
    /// windows again (in batches of half a window).
    pub fn release(&mut self, stream: u32, n: usize) {
        let n = n as u32;
        self.unreleased = self.unreleased.saturating_add(n);
        if self.unreleased >= self.cfg.conn_window / 2 {
            frame::write_window_update(&mut self.out, 0, self.unreleased);
            self.recv_window += i64::from(self.unreleased);
            self.unreleased = 0;
        }
        let half = self.cfg.stream_window / 2;
        if let Some(s) = self.streams.get_mut(&stream)
            && !s.recv_closed
        {
            s.unreleased = s.unreleased.saturating_add(n);
            if s.unreleased >= half {
                frame::write_window_update(&mut self.out, stream, s.unreleased);
                s.recv_window += i64::from(s.unreleased);
                s.unreleased = 0;
            }
        }
    }

    /// Reset `stream` (e.g. the handler gave up on it).
    pub fn reset(&mut self, stream: u32, code: ErrorCode) {
        if self.forget(stream) {
            frame::write_rst_stream(&mut self.out, stream, code);
        }
    }

    /// Start a graceful shutdown: GOAWAY(NO_ERROR); streams in progress
    /// finish, new ones are refused.
    pub fn shutdown(&mut self) {
        if !self.goaway_sent && self.state != State::Dead {
            frame::write_goaway(&mut self.out, self.last_stream, ErrorCode::NoError, b"");
            self.goaway_sent = true;
        }
    }

    fn open_for_send(&mut self, stream: u32) -> Result<&mut Stream, StreamGone> {
        match self.streams.get_mut(&stream) {
            Some(s) if !s.send_closed => Ok(s),
            _ => Err(StreamGone(stream)),
        }
    }

    /// END_STREAM went out: drop the stream if the request side is done.
    fn end_sent(&mut self, stream: u32) {
        if let Some(s) = self.streams.get_mut(&stream) {
            s.send_closed = true;
            s.end_pending = false;
            if s.recv_closed && s.pending.is_empty() {
                self.forget(stream);
            }
        }
    }

    /// Send what the windows allow of `stream`'s pending DATA.
    fn flush_stream(&mut self, stream: u32) {
        let max_frame = self.peer_max_frame;
        let Some(s) = self.streams.get_mut(&stream) else {
            return;
        };
        loop {
            let window = self.send_window.min(s.send_window).max(0) as usize;
            let n = s.pending.len().min(window).min(max_frame);
            if n == 0 && !(s.pending.is_empty() && s.end_pending) {
                return;
            }
            let end = s.end_pending && n == s.pending.len();
            let chunk: Vec<u8> = s.pending.drain(..n).collect();
            frame::write_data(&mut self.out, stream, &chunk, end, max_frame);
            self.send_window -= n as i64;
            s.send_window -= n as i64;
            if end {
                break;
            }
        }
        self.end_sent(stream);
    }

    fn flush_all(&mut self) {
        let waiting: Vec<u32> = self
            .streams
            .iter()
            .filter(|(_, s)| !s.pending.is_empty() || s.end_pending)
            .map(|(id, _)| *id)
            .collect();
        for id in waiting {
            self.flush_stream(id);
        }
    }

    /// Handle the complete frames at the start of `buf`: the bytes used,
    /// and the first connection error.
    fn process(&mut self, buf: &[u8]) -> (usize, Result<(), ConnError>) {
        let mut pos = 0;
        let r = loop {
            let rest = &buf[pos..];
            if self.state == State::Preface {
                let n = rest.len().min(frame::PREFACE.len());
                if rest[..n] != frame::PREFACE[..n] {
                    break err(ErrorCode::Protocol, "invalid connection preface");
                }
                if n < frame::PREFACE.len() {
                    break Ok(());
                }
                pos += n;
                self.state = State::FirstSettings;
                continue;
            }
            let Some(head) = rest.first_chunk::<HEAD_LEN>().map(FrameHead::parse) else {
                break Ok(());
            };
            if head.len > frame::DEFAULT_MAX_FRAME {
                break err(
                    ErrorCode::FrameSize,
                    "frame larger than SETTINGS_MAX_FRAME_SIZE",
                );
            }
            let Some(payload) = rest.get(HEAD_LEN..HEAD_LEN + head.len as usize) else {
                break Ok(());
            };
            pos += HEAD_LEN + payload.len();
            if self.state == State::FirstSettings {
                if head.kind != kind::SETTINGS || head.has(flag::ACK) {
                    break err(ErrorCode::Protocol, "first frame is not SETTINGS");
                }
                self.state = State::Open;
            }
            if let Err(e) = self.frame(head, payload) {
                break Err(e);
            }
        };
        (pos, r)
    }

    fn frame(&mut self, h: FrameHead, payload: &[u8]) -> Result<(), ConnError> {
        if let Some(b) = &self.block
            && (h.kind != kind::CONTINUATION || h.stream != b.stream)
        {
            return err(
                ErrorCode::Protocol,
                "header block interrupted (expected CONTINUATION)",
            );
        }
        match h.kind {
            kind::DATA => self.on_data(h, payload),
            kind::HEADERS => self.on_headers(h, payload),
            kind::CONTINUATION => self.on_continuation(h, payload),
            kind::PRIORITY => self.on_priority(h, payload),
            kind::RST_STREAM => self.on_rst(h, payload),
            kind::SETTINGS => self.on_settings(h, payload),
            kind::PUSH_PROMISE => err(ErrorCode::Protocol, "clients cannot send PUSH_PROMISE"),
            kind::PING => self.on_ping(h, payload),
            kind::GOAWAY => self.on_goaway(h, payload),
            kind::WINDOW_UPDATE => self.on_window_update(h, payload),
            _ => Ok(()), // unknown frame types are ignored (§4.1)
        }
    }

    /// Drop a stream, remembering it among the recently closed.
    fn forget(&mut self, stream: u32) -> bool {
        let known = self.streams.remove(&stream).is_some();
        if known {
            if self.recently_closed.len() == RECENTLY_CLOSED {
                self.recently_closed.pop_front();
            }
            self.recently_closed.push_back(stream);
        }
        known
    }

    fn idle(&self, stream: u32) -> bool {
        stream > self.last_stream && !self.streams.contains_key(&stream)
    }

    /// A stream error: RST_STREAM, forget the stream, tell the role.
    fn stream_error(&mut self, stream: u32, code: ErrorCode) {
        frame::write_rst_stream(&mut self.out, stream, code);
        if self.forget(stream) {
            self.events.push_back(H2Event::Reset { stream, code });
        }
    }

    fn on_data(&mut self, h: FrameHead, payload: &[u8]) -> Result<(), ConnError> {
        if h.stream == 0 {
            return err(ErrorCode::Protocol, "DATA on stream 0");
        }
        if self.idle(h.stream) {
            return err(ErrorCode::Protocol, "DATA on an idle stream");
        }
        let len = i64::from(h.len);
        if len > self.recv_window {
            return err(ErrorCode::FlowControl, "DATA beyond the connection window");
        }
        self.recv_window -= len;
        let body = unpadded(&h, payload)?;
        // Padding counts against the windows but is never consumed by
        // anyone: give it back now.
        let padding = payload.len() - body.len();
        let Some(s) = self.streams.get_mut(&h.stream) else {
            // Closed: keep the connection window honest, refuse the stream.
            self.release(h.stream, payload.len());
            self.stream_error(h.stream, ErrorCode::StreamClosed);
            return Ok(());
        };
        if s.recv_closed {
            self.release(h.stream, payload.len());
            self.stream_error(h.stream, ErrorCode::StreamClosed);
            return Ok(());
        }
        if len > s.recv_window {
            self.release(h.stream, payload.len());
            self.stream_error(h.stream, ErrorCode::FlowControl);
            return Ok(());
        }
        s.recv_window -= len;
        s.received += body.len() as u64;
        let end = h.has(flag::END_STREAM);
        let too_long = s.content_length.is_some_and(|cl| s.received > cl);
        let too_short = end && s.content_length.is_some_and(|cl| s.received != cl);
        if end {
            s.recv_closed = true;
        }
        if too_long || too_short {
            self.release(h.stream, payload.len());
            self.stream_error(h.stream, ErrorCode::Protocol);
            return Ok(());
        }
        if !body.is_empty() {
            self.events.push_back(H2Event::Data {
                stream: h.stream,
                data: body.to_vec(),
            });
        }
        if padding > 0 || body.is_empty() {
            self.release(h.stream, padding);
        }
        if end {
            self.events.push_back(H2Event::End { stream: h.stream });
            self.drop_if_done(h.stream);
        }
        Ok(())
    }

    fn drop_if_done(&mut self, stream: u32) {
        if self.streams.get(&stream).is_some_and(|s| {
            s.recv_closed && s.send_closed && s.pending.is_empty() && !s.end_pending
        }) {
            self.forget(stream);
        }
    }

    fn on_headers(&mut self, h: FrameHead, payload: &[u8]) -> Result<(), ConnError> {
        if h.stream == 0 {
            return err(ErrorCode::Protocol, "HEADERS on stream 0");
        }
        if h.stream.is_multiple_of(2) {
            return err(ErrorCode::Protocol, "even stream id from a client");
        }
        let mut fragment = unpadded(&h, payload)?;
        let mut self_dependent = false;
        if h.has(flag::PRIORITY) {
            let Some((dep, rest)) = fragment.split_first_chunk::<5>() else {
                return err(ErrorCode::FrameSize, "HEADERS too short for its priority");
            };
            let dep = u32::from_be_bytes([dep[0], dep[1], dep[2], dep[3]]) & 0x7fff_ffff;
            self_dependent = dep == h.stream;
            fragment = rest;
        }
        let then = match self.streams.get(&h.stream) {
            Some(s) if s.recv_closed => BlockUse::Reset(ErrorCode::StreamClosed),
            Some(_) if !h.has(flag::END_STREAM) => BlockUse::Reset(ErrorCode::Protocol),
            Some(_) => BlockUse::Trailers,
            None if self.recently_closed.contains(&h.stream) => {
                BlockUse::Fatal(ErrorCode::StreamClosed)
            }
            // §5.1.1: a new stream must use a larger identifier.
            None if h.stream <= self.last_stream => BlockUse::Fatal(ErrorCode::Protocol),
            None => {
                self.last_stream = h.stream;
                if self_dependent {
                    BlockUse::Reset(ErrorCode::Protocol)
                } else if self.peer_goaway
                    || self.goaway_sent
                    || self.streams.len() >= self.cfg.max_concurrent_streams as usize
                {
                    BlockUse::Reset(ErrorCode::RefusedStream)
                } else {
                    BlockUse::NewStream
                }
            }
        };
        let block = Block {
            stream: h.stream,
            end_stream: h.has(flag::END_STREAM),
            buf: fragment.to_vec(),
            frames: 1,
            then,
        };
        self.continue_block(block, h.has(flag::END_HEADERS))
    }

    fn on_continuation(&mut self, h: FrameHead, payload: &[u8]) -> Result<(), ConnError> {
        let Some(mut block) = self.block.take() else {
            return err(ErrorCode::Protocol, "CONTINUATION without a header block");
        };
        block.buf.extend_from_slice(payload);
        block.frames += 1;
        if block.frames > MAX_BLOCK_FRAMES {
            return err(
                ErrorCode::EnhanceYourCalm,
                "header block spans too many frames",
            );
        }
        self.continue_block(block, h.has(flag::END_HEADERS))
    }

    fn continue_block(&mut self, block: Block, complete: bool) -> Result<(), ConnError> {
        if block.buf.len() > self.cfg.max_header_block {
            return err(ErrorCode::EnhanceYourCalm, "header block too large");
        }
        if !complete {
            self.block = Some(block);
            return Ok(());
        }
        // Decode every block, used or not, to keep HPACK state in step.
        let limit = self.cfg.max_header_list;
        let mut size = 0usize;
        let mut list = Vec::new();
        let decoded = self.dec.decode(&block.buf, |n, v| {
            size += n.len() + v.len() + 32;
            if size <= limit {
                list.push((n.to_vec(), v.to_vec()));
            }
        });
        if decoded.is_err() {
            return err(ErrorCode::Compression, "HPACK decoding failed");
        }
        let id = block.stream;
        match block.then {
            BlockUse::Fatal(ErrorCode::StreamClosed) => {
                err(ErrorCode::StreamClosed, "HEADERS on a closed stream")
            }
            BlockUse::Fatal(code) => err(code, "stream identifier not larger than the last"),
            BlockUse::Reset(code) => {
                self.stream_error(id, code);
                Ok(())
            }
            BlockUse::Trailers => {
                if request::check_trailers(&list).is_err() || size > limit {
                    self.stream_error(id, ErrorCode::Protocol);
                    return Ok(());
                }
                let Some(s) = self.streams.get_mut(&id) else {
                    return Ok(());
                };
                s.recv_closed = true;
                if s.content_length.is_some_and(|cl| cl != s.received) {
                    self.stream_error(id, ErrorCode::Protocol);
                    return Ok(());
                }
                self.events.push_back(H2Event::End { stream: id });
                self.drop_if_done(id);
                Ok(())
            }
            BlockUse::NewStream => {
                let head = if size > limit {
                    Err(Malformed::Status(431))
                } else {
                    request::request_head(list, block.end_stream, &self.cfg.head)
                };
                let head = match head {
                    Ok(h) => Ok(h),
                    Err(Malformed::Status(s)) => Err(s),
                    Err(Malformed::Rule(why)) => {
                        log::debug!("HTTP/2 stream {id}: malformed request: {why}");
                        frame::write_rst_stream(&mut self.out, id, ErrorCode::Protocol);
                        return Ok(());
                    }
                };
                let content_length = match head.as_ref().map(|h| h.framing) {
                    Ok(BodyFraming::Length(n)) => Some(n),
                    _ => None,
                };
                self.streams.insert(
                    id,
                    Stream {
                        recv_closed: block.end_stream,
                        send_closed: false,
                        send_window: self.peer_initial_window,
                        recv_window: i64::from(self.cfg.stream_window),
                        unreleased: 0,
                        content_length,
                        received: 0,
                        pending: VecDeque::new(),
                        end_pending: false,
                        head_sent: false,
                    },
                );
                self.opened = self.opened.saturating_add(1);
                self.events.push_back(H2Event::Request { stream: id, head });
                if block.end_stream {
                    self.events.push_back(H2Event::End { stream: id });
                }
                Ok(())
            }
        }
    }

    fn on_priority(&mut self, h: FrameHead, payload: &[u8]) -> Result<(), ConnError> {
        if h.stream == 0 {
            return err(ErrorCode::Protocol, "PRIORITY on stream 0");
        }
        let Ok(&[a, b, c, d, _weight]) = <&[u8; 5]>::try_from(payload) else {
            self.stream_error(h.stream, ErrorCode::FrameSize);
            return Ok(());
        };
        if u32::from_be_bytes([a, b, c, d]) & 0x7fff_ffff == h.stream {
            self.stream_error(h.stream, ErrorCode::Protocol);
        }
        Ok(()) // priorities are advisory (RFC 9113 deprecates them)
    }

    fn on_rst(&mut self, h: FrameHead, payload: &[u8]) -> Result<(), ConnError> {
        if h.stream == 0 {
            return err(ErrorCode::Protocol, "RST_STREAM on stream 0");
        }
        let Some(code) = <&[u8; 4]>::try_from(payload).ok() else {
            return err(ErrorCode::FrameSize, "RST_STREAM payload is not 4 octets");
        };
        if self.idle(h.stream) {
            return err(ErrorCode::Protocol, "RST_STREAM on an idle stream");
        }
        if self.forget(h.stream) {
            self.peer_resets += 1;
            if self.peer_resets > RESET_ALLOWANCE && self.peer_resets * 2 > self.opened {
                return err(
                    ErrorCode::EnhanceYourCalm,
                    "too many streams reset by the peer",
                );
            }
            let code = ErrorCode::from_u32(u32::from_be_bytes(*code));
            self.events.push_back(H2Event::Reset {
                stream: h.stream,
                code,
            });
        }
        Ok(())
    }

    fn on_settings(&mut self, h: FrameHead, payload: &[u8]) -> Result<(), ConnError> {
        if h.stream != 0 {
            return err(ErrorCode::Protocol, "SETTINGS on a stream");
        }
        if h.has(flag::ACK) {
            if !payload.is_empty() {
                return err(ErrorCode::FrameSize, "SETTINGS ACK with a payload");
            }
            return Ok(());
        }
        if !payload.len().is_multiple_of(6) {
            return err(ErrorCode::FrameSize, "SETTINGS length not a multiple of 6");
        }
        let mut opened = false;
        for entry in payload.chunks_exact(6) {
            let id = u16::from_be_bytes([entry[0], entry[1]]);
            let v = u32::from_be_bytes([entry[2], entry[3], entry[4], entry[5]]);
            match id {
                setting::ENABLE_PUSH if v > 1 => {
                    return err(ErrorCode::Protocol, "SETTINGS_ENABLE_PUSH not 0 or 1");
                }
                setting::INITIAL_WINDOW_SIZE => {
                    if i64::from(v) > frame::MAX_WINDOW {
                        return err(
                            ErrorCode::FlowControl,
                            "SETTINGS_INITIAL_WINDOW_SIZE too large",
                        );
                    }
                    let delta = i64::from(v) - self.peer_initial_window;
                    self.peer_initial_window = i64::from(v);
                    for s in self.streams.values_mut() {
                        s.send_window += delta;
                        if s.send_window > frame::MAX_WINDOW {
                            return err(ErrorCode::FlowControl, "stream window overflow");
                        }
                    }
                    opened |= delta > 0;
                }
                setting::MAX_FRAME_SIZE => {
                    if !(frame::DEFAULT_MAX_FRAME..=frame::MAX_MAX_FRAME).contains(&v) {
                        return err(ErrorCode::Protocol, "SETTINGS_MAX_FRAME_SIZE out of range");
                    }
                    self.peer_max_frame = v as usize;
                }
                // Our encoder never indexes, so any table size is honoured.
                _ => {}
            }
        }
        frame::write_settings_ack(&mut self.out);
        if opened {
            self.flush_all();
            self.events.push_back(H2Event::WindowOpened);
        }
        Ok(())
    }

    fn on_ping(&mut self, h: FrameHead, payload: &[u8]) -> Result<(), ConnError> {
        if h.stream != 0 {
            return err(ErrorCode::Protocol, "PING on a stream");
        }
        let Some(data) = <&[u8; 8]>::try_from(payload).ok() else {
            return err(ErrorCode::FrameSize, "PING payload is not 8 octets");
        };
        if !h.has(flag::ACK) {
            frame::write_ping_ack(&mut self.out, data);
        }
        Ok(())
    }

    fn on_goaway(&mut self, h: FrameHead, payload: &[u8]) -> Result<(), ConnError> {
        if h.stream != 0 {
            return err(ErrorCode::Protocol, "GOAWAY on a stream");
        }
        if payload.len() < 8 {
            return err(ErrorCode::FrameSize, "GOAWAY shorter than 8 octets");
        }
        self.peer_goaway = true;
        Ok(())
    }

    fn on_window_update(&mut self, h: FrameHead, payload: &[u8]) -> Result<(), ConnError> {
        let Some(inc) = <&[u8; 4]>::try_from(payload).ok() else {
            return err(
                ErrorCode::FrameSize,
                "WINDOW_UPDATE payload is not 4 octets",
            );
        };
        let inc = i64::from(u32::from_be_bytes(*inc) & 0x7fff_ffff);
        if h.stream == 0 {
            if inc == 0 {
                return err(ErrorCode::Protocol, "WINDOW_UPDATE of 0 on the connection");
            }
            self.send_window += inc;
            if self.send_window > frame::MAX_WINDOW {
                return err(ErrorCode::FlowControl, "connection window overflow");
            }
            self.flush_all();
        } else {
            if self.idle(h.stream) {
                return err(ErrorCode::Protocol, "WINDOW_UPDATE on an idle stream");
            }
            let Some(s) = self.streams.get_mut(&h.stream) else {
                return Ok(()); // closed: frames in flight are fine
            };
            if inc == 0 {
                self.stream_error(h.stream, ErrorCode::Protocol);
                return Ok(());
            }
            s.send_window += inc;
            if s.send_window > frame::MAX_WINDOW {
                self.stream_error(h.stream, ErrorCode::FlowControl);
                return Ok(());
            }
            self.flush_stream(h.stream);
        }
        self.events.push_back(H2Event::WindowOpened);
        Ok(())
    }
}
