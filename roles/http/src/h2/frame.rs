//! HTTP/2 frame layout (RFC 9113 §4 and §6): the 9-byte frame header,
//! frame types, flags, error codes and settings identifiers, and writers
//! for the frames a server sends.
//!
//! Pure data and byte layout: this module must not hold connection state
//! or decide what a frame means (that is `conn`).

/// What a client sends first (RFC 9113 §3.4).
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// Size of a frame header.
pub const HEAD_LEN: usize = 9;
/// The smallest (and default) SETTINGS_MAX_FRAME_SIZE.
pub const DEFAULT_MAX_FRAME: u32 = 16_384;
/// The largest SETTINGS_MAX_FRAME_SIZE.
pub const MAX_MAX_FRAME: u32 = (1 << 24) - 1;
/// The largest flow-control window (RFC 9113 §6.9.1).
pub const MAX_WINDOW: i64 = (1 << 31) - 1;
/// The initial window of every stream and of the connection.
pub const DEFAULT_WINDOW: i64 = 65_535;

pub mod kind {
    pub const DATA: u8 = 0x0;
    pub const HEADERS: u8 = 0x1;
    pub const PRIORITY: u8 = 0x2;
    pub const RST_STREAM: u8 = 0x3;
    pub const SETTINGS: u8 = 0x4;
    pub const PUSH_PROMISE: u8 = 0x5;
    pub const PING: u8 = 0x6;
    pub const GOAWAY: u8 = 0x7;
    pub const WINDOW_UPDATE: u8 = 0x8;
    pub const CONTINUATION: u8 = 0x9;
}

pub mod flag {
    pub const END_STREAM: u8 = 0x1;
    pub const ACK: u8 = 0x1;
    pub const END_HEADERS: u8 = 0x4;
    pub const PADDED: u8 = 0x8;
    pub const PRIORITY: u8 = 0x20;
}

pub mod setting {
    pub const HEADER_TABLE_SIZE: u16 = 0x1;
    pub const ENABLE_PUSH: u16 = 0x2;
    pub const MAX_CONCURRENT_STREAMS: u16 = 0x3;
    pub const INITIAL_WINDOW_SIZE: u16 = 0x4;
    pub const MAX_FRAME_SIZE: u16 = 0x5;
    pub const MAX_HEADER_LIST_SIZE: u16 = 0x6;
}

/// Error codes (RFC 9113 §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCode {
    NoError = 0x0,
    Protocol = 0x1,
    Internal = 0x2,
    FlowControl = 0x3,
    SettingsTimeout = 0x4,
    StreamClosed = 0x5,
    FrameSize = 0x6,
    RefusedStream = 0x7,
    Cancel = 0x8,
    Compression = 0x9,
    Connect = 0xa,
    EnhanceYourCalm = 0xb,
    InadequateSecurity = 0xc,
    Http11Required = 0xd,
}

impl ErrorCode {
    /// The code's name as the RFC spells it.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::NoError => "NO_ERROR",
            ErrorCode::Protocol => "PROTOCOL_ERROR",
            ErrorCode::Internal => "INTERNAL_ERROR",
            ErrorCode::FlowControl => "FLOW_CONTROL_ERROR",
            ErrorCode::SettingsTimeout => "SETTINGS_TIMEOUT",
            ErrorCode::StreamClosed => "STREAM_CLOSED",
            ErrorCode::FrameSize => "FRAME_SIZE_ERROR",
            ErrorCode::RefusedStream => "REFUSED_STREAM",
            ErrorCode::Cancel => "CANCEL",
            ErrorCode::Compression => "COMPRESSION_ERROR",
            ErrorCode::Connect => "CONNECT_ERROR",
            ErrorCode::EnhanceYourCalm => "ENHANCE_YOUR_CALM",
            ErrorCode::InadequateSecurity => "INADEQUATE_SECURITY",
            ErrorCode::Http11Required => "HTTP_1_1_REQUIRED",
        }
    }

    /// A received code; unknown codes read as INTERNAL_ERROR (§7).
    pub fn from_u32(v: u32) -> ErrorCode {
        use ErrorCode::*;
        [
            NoError,
            Protocol,
            Internal,
            FlowControl,
            SettingsTimeout,
            StreamClosed,
            FrameSize,
            RefusedStream,
            Cancel,
            Compression,
            Connect,
            EnhanceYourCalm,
            InadequateSecurity,
            Http11Required,
        ]
        .into_iter()
        .find(|c| *c as u32 == v)
        .unwrap_or(Internal)
    }
}

/// A frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHead {
    pub len: u32,
    pub kind: u8,
    pub flags: u8,
    /// The stream identifier, reserved bit cleared.
    pub stream: u32,
}

impl FrameHead {
    pub fn parse(b: &[u8; HEAD_LEN]) -> FrameHead {
        FrameHead {
            len: u32::from_be_bytes([0, b[0], b[1], b[2]]),
            kind: b[3],
            flags: b[4],
            stream: u32::from_be_bytes([b[5], b[6], b[7], b[8]]) & 0x7fff_ffff,
        }
    }

    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// Append a frame header (`len` must fit in 24 bits).
pub fn write_head(out: &mut Vec<u8>, len: usize, kind: u8, flags: u8, stream: u32) {
    let len = (len as u32).to_be_bytes();
    out.extend_from_slice(&len[1..]);
    out.push(kind);
    out.push(flags);
    out.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
}

/// Append a SETTINGS frame with `values`.
pub fn write_settings(out: &mut Vec<u8>, values: &[(u16, u32)]) {
    write_head(out, values.len() * 6, kind::SETTINGS, 0, 0);
    for (id, v) in values {
        out.extend_from_slice(&id.to_be_bytes());
        out.extend_from_slice(&v.to_be_bytes());
    }
}

pub fn write_settings_ack(out: &mut Vec<u8>) {
    write_head(out, 0, kind::SETTINGS, flag::ACK, 0);
}

pub fn write_ping_ack(out: &mut Vec<u8>, payload: &[u8; 8]) {
    write_head(out, 8, kind::PING, flag::ACK, 0);
    out.extend_from_slice(payload);
}

pub fn write_window_update(out: &mut Vec<u8>, stream: u32, increment: u32) {
    write_head(out, 4, kind::WINDOW_UPDATE, 0, stream);
    out.extend_from_slice(&(increment & 0x7fff_ffff).to_be_bytes());
}

pub fn write_rst_stream(out: &mut Vec<u8>, stream: u32, code: ErrorCode) {
    write_head(out, 4, kind::RST_STREAM, 0, stream);
    out.extend_from_slice(&(code as u32).to_be_bytes());
}

pub fn write_goaway(out: &mut Vec<u8>, last_stream: u32, code: ErrorCode, debug: &[u8]) {
    write_head(out, 8 + debug.len(), kind::GOAWAY, 0, 0);
    out.extend_from_slice(&(last_stream & 0x7fff_ffff).to_be_bytes());
    out.extend_from_slice(&(code as u32).to_be_bytes());
    out.extend_from_slice(debug);
}

/// Append DATA frames carrying `data` (split at `max_frame`); `end` sets
/// END_STREAM on the last one (an empty DATA frame when `data` is empty).
pub fn write_data(out: &mut Vec<u8>, stream: u32, data: &[u8], end: bool, max_frame: usize) {
    let mut chunks = data.chunks(max_frame.max(1)).peekable();
    if chunks.peek().is_none() {
        write_head(
            out,
            0,
            kind::DATA,
            if end { flag::END_STREAM } else { 0 },
            stream,
        );
        return;
    }
    while let Some(c) = chunks.next() {
        let last = chunks.peek().is_none();
        let flags = if end && last { flag::END_STREAM } else { 0 };
        write_head(out, c.len(), kind::DATA, flags, stream);
        out.extend_from_slice(c);
    }
}

/// Append a header block as HEADERS plus CONTINUATION frames of at most
/// `max_frame` bytes each.
pub fn write_headers(out: &mut Vec<u8>, stream: u32, block: &[u8], end: bool, max_frame: usize) {
    let mut chunks = block.chunks(max_frame.max(1)).peekable();
    let mut first = true;
    if chunks.peek().is_none() {
        let flags = flag::END_HEADERS | if end { flag::END_STREAM } else { 0 };
        write_head(out, 0, kind::HEADERS, flags, stream);
        return;
    }
    while let Some(c) = chunks.next() {
        let last = chunks.peek().is_none();
        let mut flags = if last { flag::END_HEADERS } else { 0 };
        let k = if first {
            if end {
                flags |= flag::END_STREAM;
            }
            kind::HEADERS
        } else {
            kind::CONTINUATION
        };
        write_head(out, c.len(), k, flags, stream);
        out.extend_from_slice(c);
        first = false;
    }
}

/// The payload of a PADDED frame without its padding (RFC 9113 §6.1):
/// `None` when the pad length is not smaller than the payload.
pub fn unpad<'p>(head: &FrameHead, payload: &'p [u8]) -> Option<&'p [u8]> {
    if !head.has(flag::PADDED) {
        return Some(payload);
    }
    let (&pad, rest) = payload.split_first()?;
    rest.len()
        .checked_sub(usize::from(pad))
        .map(|end| &rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_round_trip_clears_the_reserved_bit() {
        let mut out = Vec::new();
        write_head(&mut out, 0x01_02_03, kind::HEADERS, 0x25, 0xffff_ffff);
        let h = FrameHead::parse(out.as_slice().try_into().expect("9 bytes"));
        assert_eq!(h.len, 0x01_02_03);
        assert_eq!(h.kind, kind::HEADERS);
        assert_eq!(h.flags, 0x25);
        assert_eq!(h.stream, 0x7fff_ffff, "R bit ignored");
    }

    #[test]
    fn padding_rules() {
        let padded = FrameHead {
            len: 0,
            kind: kind::DATA,
            flags: flag::PADDED,
            stream: 1,
        };
        assert_eq!(unpad(&padded, b"\x02abcXY"), Some(&b"abc"[..]));
        assert_eq!(unpad(&padded, b"\x00abc"), Some(&b"abc"[..]));
        assert_eq!(unpad(&padded, b"\x03abc"), Some(&b""[..]));
        assert_eq!(unpad(&padded, b"\x04abc"), None, "pad >= payload");
        assert_eq!(unpad(&padded, b""), None, "no pad length octet");
    }

    #[test]
    fn data_and_headers_split_at_the_frame_size() {
        let mut out = Vec::new();
        write_data(&mut out, 3, &[7u8; 10], true, 4);
        assert_eq!(out.len(), 3 * HEAD_LEN + 10);
        let last = FrameHead::parse(out[HEAD_LEN * 2 + 8..][..HEAD_LEN].try_into().expect("9"));
        assert_eq!((last.len, last.flags), (2, flag::END_STREAM));
        let mut out = Vec::new();
        write_headers(&mut out, 5, &[1u8; 5], false, 4);
        let first = FrameHead::parse(out[..HEAD_LEN].try_into().expect("9"));
        let cont = FrameHead::parse(out[HEAD_LEN + 4..][..HEAD_LEN].try_into().expect("9"));
        assert_eq!((first.kind, first.flags), (kind::HEADERS, 0));
        assert_eq!(
            (cont.kind, cont.flags),
            (kind::CONTINUATION, flag::END_HEADERS)
        );
    }

    #[test]
    fn unknown_error_codes_read_as_internal() {
        assert_eq!(ErrorCode::from_u32(0x8), ErrorCode::Cancel);
        assert_eq!(ErrorCode::from_u32(0xff), ErrorCode::Internal);
    }
}
