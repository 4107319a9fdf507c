//! The HTTP/2 server connection as a sans-IO state machine (RFC 9113):
//! bytes in, [`H2Event`]s and bytes out.
//!
//! This file holds the connection's types, the preface and frame reader
//! and the dispatch to one handler per frame type; each concern lives in
//! its own file:
//! - `headers`: header blocks in (HEADERS + CONTINUATION, HPACK via
//!   [`hpack`](crate::h2::hpack), request validation) and response heads
//!   out (encoded with the `loona-hpack` crate);
//! - `recv`: request DATA and the receive windows;
//! - `send`: response DATA, parked as chunks while the peer's windows are
//!   closed, and the send windows (WINDOW_UPDATE, SETTINGS);
//! - `config`: the limits and windows ([`H2Config`]);
//! - `control`: stream lifetimes and the connection-level frames
//!   (SETTINGS, PING, GOAWAY, RST_STREAM, PRIORITY).
//!
//! A connection error writes GOAWAY and returns [`ConnError`]; a stream
//! error writes RST_STREAM and reports [`H2Event::Reset`].
//!
//! It must not touch sockets, timers or user code: the role drives it.

mod config;
mod control;
mod headers;
mod recv;
mod send;
mod stream;

use std::collections::{BTreeMap, VecDeque};

use loona_hpack::Encoder;

use crate::h2::frame::{self, ErrorCode, FrameHead, HEAD_LEN, flag, kind, setting};
use crate::h2::hpack::HpackDecoder;
use crate::parse::RequestHead;

pub use config::H2Config;
use headers::Block;
use stream::Stream;

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
    /// A send window grew: parked DATA may have gone out; streams waiting
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
    /// Response bytes parked on all streams.
    parked: usize,
    /// Response DATA bytes sent so far (progress, for the stall timeout).
    data_sent: u64,
    /// The largest single `send_data` so far.
    largest_write: usize,
}

impl std::fmt::Debug for H2Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H2Conn")
            .field("state", &self.state)
            .field("streams", &self.streams.len())
            .field("last_stream", &self.last_stream)
            .field("parked", &self.parked)
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
            parked: 0,
            data_sent: 0,
            largest_write: 0,
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
            self.fail(e.code, e.why);
        }
        r
    }

    /// End the connection with a connection error: GOAWAY(`code`) is
    /// queued, parked DATA dropped, later input ignored. The caller must
    /// flush the output and close the transport (RFC 9113 §5.4.1).
    pub fn fail(&mut self, code: ErrorCode, why: &str) {
        if self.state == State::Dead {
            return;
        }
        self.block = None;
        frame::write_goaway(&mut self.out, self.last_stream, code, why.as_bytes());
        self.goaway_sent = true;
        self.state = State::Dead;
        self.inbuf = Vec::new();
        for s in self.streams.values_mut() {
            s.pending.clear();
        }
        self.parked = 0;
    }

    /// A connection error was sent: only flushing and closing are left.
    pub fn failed(&self) -> bool {
        self.state == State::Dead
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
}
