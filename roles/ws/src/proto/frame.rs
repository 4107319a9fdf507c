//! Frame headers (RFC 6455 section 5.2): incremental parsing and writing.
//!
//! The parser looks at a byte slice and either needs more bytes or returns
//! the header and its length; it checks everything knowable from the
//! header alone: reserved opcodes, RSV bits without an extension, control
//! frame rules, the 64-bit length's top bit, and the masking direction.

use crate::proto::error::WsError;

/// Largest possible frame header: 2 + 8 (length) + 4 (mask).
pub const MAX_HEADER_LEN: usize = 14;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opcode {
    Continuation,
    Text,
    Binary,
    Close,
    Ping,
    Pong,
}

impl Opcode {
    pub fn is_control(self) -> bool {
        matches!(self, Opcode::Close | Opcode::Ping | Opcode::Pong)
    }

    fn from_u8(b: u8) -> Option<Self> {
        Some(match b {
            0 => Opcode::Continuation,
            1 => Opcode::Text,
            2 => Opcode::Binary,
            8 => Opcode::Close,
            9 => Opcode::Ping,
            10 => Opcode::Pong,
            _ => return None,
        })
    }

    fn to_u8(self) -> u8 {
        match self {
            Opcode::Continuation => 0,
            Opcode::Text => 1,
            Opcode::Binary => 2,
            Opcode::Close => 8,
            Opcode::Ping => 9,
            Opcode::Pong => 10,
        }
    }
}

/// Which end of the connection this is: servers receive masked frames,
/// clients unmasked ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Server,
    Client,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    pub fin: bool,
    /// The per-message "compressed" bit (permessage-deflate).
    pub rsv1: bool,
    pub opcode: Opcode,
    pub mask: Option<[u8; 4]>,
    pub len: u64,
}

/// Parse a frame header at the start of `buf`. `rsv1_allowed`: an
/// extension using RSV1 was negotiated.
pub fn parse_header(
    buf: &[u8],
    side: Side,
    rsv1_allowed: bool,
) -> Result<Option<(FrameHeader, usize)>, WsError> {
    let (Some(&b0), Some(&b1)) = (buf.first(), buf.get(1)) else {
        return Ok(None);
    };
    let fin = b0 & 0x80 != 0;
    let rsv1 = b0 & 0x40 != 0;
    if b0 & 0x30 != 0 || (rsv1 && !rsv1_allowed) {
        return Err(WsError::Protocol("reserved bits set"));
    }
    let opcode = Opcode::from_u8(b0 & 0x0f).ok_or(WsError::Protocol("reserved opcode"))?;
    let masked = b1 & 0x80 != 0;
    match (side, masked) {
        (Side::Server, false) => return Err(WsError::Protocol("client frame not masked")),
        (Side::Client, true) => return Err(WsError::Protocol("server frame masked")),
        _ => {}
    }
    let (len, mut at) = match b1 & 0x7f {
        126 => match buf.get(2..4) {
            Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
            None => return Ok(None),
        },
        127 => match buf.get(2..10) {
            Some(b) => {
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                let n = u64::from_be_bytes(a);
                if n >> 63 != 0 {
                    return Err(WsError::Protocol("64-bit length with the top bit set"));
                }
                (n, 10)
            }
            None => return Ok(None),
        },
        n => (u64::from(n), 2),
    };
    if opcode.is_control() && (!fin || len > 125) {
        return Err(WsError::Protocol("fragmented or oversized control frame"));
    }
    if opcode.is_control() && rsv1 {
        return Err(WsError::Protocol("compressed control frame"));
    }
    let mask = if masked {
        let Some(m) = buf.get(at..at + 4) else {
            return Ok(None);
        };
        at += 4;
        Some([m[0], m[1], m[2], m[3]])
    } else {
        None
    };
    Ok(Some((
        FrameHeader {
            fin,
            rsv1,
            opcode,
            mask,
            len,
        },
        at,
    )))
}

/// Append a frame header to `out`.
pub fn write_header(
    out: &mut Vec<u8>,
    fin: bool,
    rsv1: bool,
    opcode: Opcode,
    mask: Option<[u8; 4]>,
    len: u64,
) {
    out.push((u8::from(fin) << 7) | (u8::from(rsv1) << 6) | opcode.to_u8());
    let m = if mask.is_some() { 0x80 } else { 0 };
    if len < 126 {
        out.push(m | len as u8);
    } else if len <= u64::from(u16::MAX) {
        out.push(m | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(m | 127);
        out.extend_from_slice(&len.to_be_bytes());
    }
    if let Some(k) = mask {
        out.extend_from_slice(&k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdr(bytes: &[u8], side: Side) -> Result<Option<(FrameHeader, usize)>, WsError> {
        parse_header(bytes, side, false)
    }

    #[test]
    fn rfc6455_5_2_round_trip_all_length_forms() {
        for len in [0u64, 1, 125, 126, 65535, 65536, 1 << 40] {
            for mask in [None, Some([1, 2, 3, 4])] {
                let mut out = Vec::new();
                write_header(&mut out, true, false, Opcode::Binary, mask, len);
                let side = if mask.is_some() {
                    Side::Server
                } else {
                    Side::Client
                };
                let (h, n) = hdr(&out, side).expect("valid").expect("complete");
                assert_eq!((h.len, h.mask, n), (len, mask, out.len()));
                for cut in 0..out.len() {
                    assert_eq!(hdr(&out[..cut], side), Ok(None), "partial at {cut}");
                }
            }
        }
    }

    #[test]
    fn rfc6455_5_2_reserved_opcodes_are_1002() {
        for op in [3u8, 4, 5, 6, 7, 0xb, 0xc, 0xf] {
            assert_eq!(
                hdr(&[0x80 | op, 0x80, 0, 0, 0, 0], Side::Server).map_err(|e| e.close_code()),
                Err(1002)
            );
        }
    }

    #[test]
    fn rfc6455_5_2_rsv_bits_need_an_extension() {
        for b0 in [0xc1u8, 0xa1, 0x91] {
            assert!(hdr(&[b0, 0x80, 0, 0, 0, 0], Side::Server).is_err());
        }
        assert!(
            parse_header(&[0xc1, 0x80, 0, 0, 0, 0], Side::Server, true).is_ok(),
            "RSV1 with deflate"
        );
    }

    #[test]
    fn rfc6455_5_5_control_frames_are_final_and_at_most_125() {
        assert!(
            hdr(&[0x09, 0x80, 0, 0, 0, 0], Side::Server).is_err(),
            "fragmented ping"
        );
        assert!(
            hdr(&[0x89, 0x80 | 126, 0, 126, 0, 0, 0, 0], Side::Server).is_err(),
            "ping of 126"
        );
        assert!(hdr(&[0x89, 0x80 | 125, 0, 0, 0, 0], Side::Server).is_ok());
    }

    #[test]
    fn rfc6455_5_1_masking_direction() {
        assert!(
            hdr(&[0x81, 0x00], Side::Server).is_err(),
            "unmasked client frame"
        );
        assert!(
            hdr(&[0x81, 0x80, 0, 0, 0, 0], Side::Client).is_err(),
            "masked server frame"
        );
    }

    #[test]
    fn rfc6455_5_2_64bit_length_top_bit_is_an_error() {
        let mut b = vec![0x82, 0x80 | 127];
        b.extend_from_slice(&(1u64 << 63).to_be_bytes());
        b.extend_from_slice(&[0, 0, 0, 0]);
        assert!(hdr(&b, Side::Server).is_err());
    }
}
