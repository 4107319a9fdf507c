//! The sending half: turns messages, fragments and control payloads into
//! frames (compressed when permessage-deflate was negotiated, masked with a
//! fresh key per frame on the client side). Pure: returns bytes.

use crate::proto::deflate::Deflater;
use crate::proto::frame::{MAX_HEADER_LEN, Opcode, Side, write_header};
use crate::proto::mask::apply_mask;
use crate::proto::{WsError, close};

/// Messages shorter than this are sent uncompressed even when
/// permessage-deflate is on (compression would not pay for itself).
const COMPRESS_MIN: usize = 16;

/// An encoded frame: a header and a payload that may be borrowed.
pub(crate) struct Frame<'a> {
    head: Vec<u8>,
    body: Body<'a>,
}

enum Body<'a> {
    Borrowed(&'a [u8]),
    Owned(Vec<u8>),
}

impl Frame<'_> {
    pub fn parts(&self) -> [&[u8]; 2] {
        let body: &[u8] = match &self.body {
            Body::Borrowed(b) => b,
            Body::Owned(v) => v,
        };
        [&self.head, body]
    }
}

pub(crate) struct Sender {
    side: Side,
    deflater: Option<Deflater>,
    /// A fragmented message is being sent (text?).
    fragmenting: Option<bool>,
    pub close_sent: bool,
    rng: u64,
}

impl Sender {
    pub fn new(side: Side, deflater: Option<Deflater>) -> Self {
        let mut seed = [0u8; 8];
        let _ = getrandom::fill(&mut seed);
        let rng = u64::from_le_bytes(seed) | 1;
        Sender {
            side,
            deflater,
            fragmenting: None,
            close_sent: false,
            rng,
        }
    }

    /// Whether permessage-deflate was negotiated.
    pub fn compressing(&self) -> bool {
        self.deflater.is_some()
    }

    /// A masking key (client side): xorshift64*, seeded from the OS.
    fn mask(&mut self) -> Option<[u8; 4]> {
        if self.side == Side::Server {
            return None;
        }
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let v = self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d);
        Some((v as u32).to_le_bytes())
    }

    fn frame(&mut self, fin: bool, rsv1: bool, op: Opcode, payload: &[u8]) -> Vec<u8> {
        let mask = self.mask();
        let mut out = Vec::with_capacity(MAX_HEADER_LEN + payload.len());
        write_header(&mut out, fin, rsv1, op, mask, payload.len() as u64);
        let at = out.len();
        out.extend_from_slice(payload);
        if let Some(k) = mask {
            apply_mask(&mut out[at..], k, 0);
        }
        out
    }

    /// A frame whose payload is written from where it lies when it needs no
    /// masking (server side): header and payload go out as two parts.
    fn frame_parts<'a>(
        &mut self,
        fin: bool,
        rsv1: bool,
        op: Opcode,
        payload: &'a [u8],
    ) -> Frame<'a> {
        if self.side == Side::Client {
            return Frame {
                head: Vec::new(),
                body: Body::Owned(self.frame(fin, rsv1, op, payload)),
            };
        }
        let mut head = Vec::with_capacity(MAX_HEADER_LEN);
        write_header(&mut head, fin, rsv1, op, None, payload.len() as u64);
        Frame {
            head,
            body: Body::Borrowed(payload),
        }
    }

    /// A whole message as one frame.
    pub fn message<'a>(&'a mut self, text: bool, data: &'a [u8]) -> Result<Frame<'a>, WsError> {
        if self.fragmenting.is_some() {
            return Err(WsError::Protocol("a fragmented message is in progress"));
        }
        let op = if text { Opcode::Text } else { Opcode::Binary };
        if self.deflater.as_ref().is_some_and(Deflater::active) && data.len() >= COMPRESS_MIN {
            // A fresh buffer per message: an idle connection keeps none.
            let mut z = Vec::new();
            if let Some(d) = self.deflater.as_mut() {
                d.compress(data, &mut z)?;
            }
            let mask = self.mask();
            let mut head = Vec::with_capacity(MAX_HEADER_LEN);
            write_header(&mut head, true, true, op, mask, z.len() as u64);
            if let Some(k) = mask {
                apply_mask(&mut z, k, 0);
            }
            return Ok(Frame {
                head,
                body: Body::Owned(z),
            });
        }
        Ok(self.frame_parts(true, false, op, data))
    }

    /// One fragment of a message sent in pieces (never compressed).
    pub fn fragment<'a>(
        &mut self,
        text: bool,
        data: &'a [u8],
        last: bool,
    ) -> Result<Frame<'a>, WsError> {
        let op = match self.fragmenting {
            None => {
                if text {
                    Opcode::Text
                } else {
                    Opcode::Binary
                }
            }
            Some(t) if t == text => Opcode::Continuation,
            Some(_) => return Err(WsError::Protocol("fragment type differs from its message")),
        };
        self.fragmenting = if last { None } else { Some(text) };
        Ok(self.frame_parts(last, false, op, data))
    }

    /// A ping or pong (payload cut to 125 bytes).
    pub fn control(&mut self, op: Opcode, payload: &[u8]) -> Vec<u8> {
        let p = &payload[..payload.len().min(125)];
        self.frame(true, false, op, p)
    }

    /// The close frame (once); `None` code sends an empty close.
    pub fn close(&mut self, code: Option<u16>, reason: &str) -> Option<Vec<u8>> {
        if std::mem::replace(&mut self.close_sent, true) {
            return None;
        }
        let payload = code
            .map(|c| close::close_payload(c, reason))
            .unwrap_or_default();
        Some(self.frame(true, false, Opcode::Close, &payload))
    }
}
