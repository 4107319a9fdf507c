//! The receiving half of a WebSocket connection, sans-IO: bytes in,
//! [`Incoming`] items out.
//!
//! It reassembles frames that arrive in any split, unmasks (server side),
//! enforces fragmentation rules (control frames may interleave a fragmented
//! message; a new data frame may not), validates text as UTF-8 while it
//! arrives, inflates permessage-deflate messages frame by frame, and applies
//! the message size limit before buffering past it. Only a partial header
//! (at most 14 bytes) is carried between reads; message bytes are buffered
//! in whole-message mode only.

use crate::proto::deflate::Inflater;
use crate::proto::frame::{FrameHeader, MAX_HEADER_LEN, Opcode, Side, parse_header};
use crate::proto::mask::apply_mask;
use crate::proto::utf8::Utf8Validator;
use crate::proto::{WsError, close};

/// One thing the peer sent.
#[derive(Debug)]
#[non_exhaustive]
pub enum Incoming<'a> {
    /// A whole message (whole-message mode).
    Message {
        text: bool,
        data: &'a [u8],
    },
    /// A piece of a message (streaming mode).
    Fragment {
        text: bool,
        data: &'a [u8],
        first: bool,
        last: bool,
    },
    Ping(&'a [u8]),
    Pong(&'a [u8]),
    /// A close frame: its code and reason, if it had any.
    Close(Option<(u16, &'a str)>),
}

/// What the consumer wants after an item.
#[derive(Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Stop,
}

struct Frame {
    head: FrameHeader,
    received: u64,
}

struct Message {
    text: bool,
    compressed: bool,
    total: u64,
    first_piece: bool,
}

pub struct Receiver {
    side: Side,
    max_message: u64,
    streaming: bool,
    head: Vec<u8>,
    frame: Option<Frame>,
    msg: Option<Message>,
    buf: Vec<u8>,
    control: Vec<u8>,
    utf8: Utf8Validator,
    inflater: Option<Inflater>,
    scratch: Vec<u8>,
}

/// Buffers up to this size are kept between messages for reuse.
const KEEP_BETWEEN_MESSAGES: usize = 4096;

fn release(buf: &mut Vec<u8>) {
    if buf.capacity() > KEEP_BETWEEN_MESSAGES {
        *buf = Vec::new();
    }
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("side", &self.side)
            .field("in_message", &self.msg.is_some())
            .finish()
    }
}

impl Receiver {
    pub fn new(side: Side, max_message: u64, streaming: bool, inflater: Option<Inflater>) -> Self {
        Receiver {
            side,
            max_message,
            streaming,
            head: Vec::new(),
            frame: None,
            msg: None,
            buf: Vec::new(),
            control: Vec::new(),
            utf8: Utf8Validator::new(),
            inflater,
            scratch: Vec::new(),
        }
    }

    pub fn side(&self) -> Side {
        self.side
    }

    /// Consume `input`, calling `on` for each complete item.
    pub fn feed(
        &mut self,
        mut input: &[u8],
        on: &mut dyn FnMut(Incoming<'_>) -> Flow,
    ) -> Result<(), WsError> {
        while !input.is_empty() {
            if self.frame.is_none() {
                input = self.read_header(input)?;
                if self.frame.is_none() {
                    return Ok(()); // header incomplete
                }
                if self.frame_done_at_start(on)? == Flow::Stop {
                    return Ok(());
                }
                continue;
            }
            let Some(f) = self.frame.as_mut() else {
                continue;
            };
            let want = f.head.len - f.received;
            let n = want.min(input.len() as u64) as usize;
            let (piece, rest) = input.split_at(n);
            input = rest;
            let offset = f.received as usize;
            f.received += n as u64;
            let last = f.received == f.head.len;
            let head = f.head;
            if last {
                self.frame = None;
            }
            if self.payload(head, piece, offset, last, on)? == Flow::Stop {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Complete a frame header from carried bytes plus `input`.
    fn read_header<'i>(&mut self, input: &'i [u8]) -> Result<&'i [u8], WsError> {
        let rsv1 = self.inflater.is_some();
        if self.head.is_empty() {
            if let Some((head, n)) = parse_header(input, self.side, rsv1)? {
                self.start_frame(head)?;
                return Ok(&input[n..]);
            }
            let take = input.len().min(MAX_HEADER_LEN);
            self.head.extend_from_slice(&input[..take]);
            return Ok(&input[take..]);
        }
        let have = self.head.len();
        let take = input.len().min(MAX_HEADER_LEN - have);
        self.head.extend_from_slice(&input[..take]);
        match parse_header(&self.head, self.side, rsv1)? {
            Some((head, n)) => {
                let used = n - have;
                self.head.clear();
                self.start_frame(head)?;
                Ok(&input[used..])
            }
            None => Ok(&input[take..]),
        }
    }

    /// Fragmentation rules and the size limit, checked on the header.
    fn start_frame(&mut self, head: FrameHeader) -> Result<(), WsError> {
        match (head.opcode, &mut self.msg) {
            (Opcode::Continuation, None) => {
                return Err(WsError::Protocol("continuation without a message"));
            }
            (Opcode::Continuation, Some(_)) if head.rsv1 => {
                return Err(WsError::Protocol("RSV1 on a continuation frame"));
            }
            (Opcode::Text | Opcode::Binary, Some(_)) => {
                return Err(WsError::Protocol("new message inside a fragmented one"));
            }
            (Opcode::Text | Opcode::Binary, None) => {
                let text = head.opcode == Opcode::Text;
                self.msg = Some(Message {
                    text,
                    compressed: head.rsv1,
                    total: 0,
                    first_piece: true,
                });
                self.buf.clear();
            }
            _ => {}
        }
        if !head.opcode.is_control()
            && let Some(m) = &self.msg
            && !m.compressed
            && m.total + head.len > self.max_message
        {
            return Err(WsError::TooBig {
                size: m.total + head.len,
                limit: self.max_message,
            });
        }
        self.control.clear();
        self.frame = Some(Frame { head, received: 0 });
        Ok(())
    }

    /// Zero-length frames complete as soon as their header does.
    fn frame_done_at_start(
        &mut self,
        on: &mut dyn FnMut(Incoming<'_>) -> Flow,
    ) -> Result<Flow, WsError> {
        let Some(f) = &self.frame else {
            return Ok(Flow::Continue);
        };
        if f.head.len != 0 {
            return Ok(Flow::Continue);
        }
        let head = f.head;
        self.frame = None;
        self.payload(head, &[], 0, true, on)
    }

    fn payload(
        &mut self,
        head: FrameHeader,
        piece: &[u8],
        offset: usize,
        last: bool,
        on: &mut dyn FnMut(Incoming<'_>) -> Flow,
    ) -> Result<Flow, WsError> {
        if head.opcode.is_control() {
            self.control.extend_from_slice(piece);
            if let Some(k) = head.mask {
                let at = self.control.len() - piece.len();
                apply_mask(&mut self.control[at..], k, offset);
            }
            return if last {
                self.control_done(head.opcode, on)
            } else {
                Ok(Flow::Continue)
            };
        }
        self.data(head, piece, offset, last, on)
    }

    fn control_done(
        &mut self,
        op: Opcode,
        on: &mut dyn FnMut(Incoming<'_>) -> Flow,
    ) -> Result<Flow, WsError> {
        let payload = std::mem::take(&mut self.control);
        let flow = match op {
            Opcode::Ping => on(Incoming::Ping(&payload)),
            Opcode::Pong => on(Incoming::Pong(&payload)),
            _ => on(Incoming::Close(close::parse_close(&payload)?)),
        };
        self.control = payload;
        Ok(flow)
    }

    fn data(
        &mut self,
        head: FrameHeader,
        piece: &[u8],
        offset: usize,
        frame_last: bool,
        on: &mut dyn FnMut(Incoming<'_>) -> Flow,
    ) -> Result<Flow, WsError> {
        let Some(msg) = self.msg.as_mut() else {
            return Err(WsError::Protocol("data without a message"));
        };
        let msg_last = frame_last && head.fin;
        let (text, compressed) = (msg.text, msg.compressed);
        // Unmask into the scratch buffer (or the message buffer directly).
        let mut plain = std::mem::take(&mut self.scratch);
        plain.clear();
        let target: &mut Vec<u8> = if compressed || self.streaming {
            &mut plain
        } else {
            &mut self.buf
        };
        let at = target.len();
        target.extend_from_slice(piece);
        if let Some(k) = head.mask {
            apply_mask(&mut target[at..], k, offset);
        }
        if compressed {
            let mut out = std::mem::take(&mut self.buf);
            let start = if self.streaming {
                out.clear();
                0
            } else {
                out.len()
            };
            let limit = self.max_message.saturating_sub(msg.total) + start as u64;
            let inflater = self
                .inflater
                .as_mut()
                .ok_or(WsError::Protocol("RSV1 without deflate"))?;
            let r = inflater.inflate(&plain, msg_last, &mut out, limit);
            self.buf = out;
            r?;
            msg.total += (self.buf.len() - start) as u64;
            if text {
                self.utf8.feed(&self.buf[start..])?;
            }
        } else {
            msg.total += piece.len() as u64;
            if text {
                let fresh = if self.streaming {
                    &plain[..]
                } else {
                    &self.buf[at..]
                };
                self.utf8.feed(fresh)?;
            }
        }
        if msg.total > self.max_message {
            return Err(WsError::TooBig {
                size: msg.total,
                limit: self.max_message,
            });
        }
        if msg_last && text {
            self.utf8.finish()?;
        }
        let flow = self.emit_data(msg_last, &plain, on);
        self.scratch = plain;
        if msg_last {
            self.msg = None;
            // Between messages an idle connection keeps no large buffers.
            release(&mut self.buf);
            release(&mut self.scratch);
        }
        Ok(flow)
    }

    fn emit_data(
        &mut self,
        msg_last: bool,
        plain: &[u8],
        on: &mut dyn FnMut(Incoming<'_>) -> Flow,
    ) -> Flow {
        let Some(msg) = self.msg.as_mut() else {
            return Flow::Continue;
        };
        if self.streaming {
            let data = if msg.compressed { &self.buf[..] } else { plain };
            if data.is_empty() && !msg_last {
                return Flow::Continue;
            }
            let first = std::mem::replace(&mut msg.first_piece, false);
            return on(Incoming::Fragment {
                text: msg.text,
                data,
                first,
                last: msg_last,
            });
        }
        if msg_last {
            return on(Incoming::Message {
                text: msg.text,
                data: &self.buf,
            });
        }
        Flow::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_receiver_keeps_no_message_sized_buffers() {
        let mut rx = Receiver::new(Side::Client, 1 << 20, false, None);
        let len = 100_000usize;
        let mut frame = vec![0x82, 127];
        frame.extend_from_slice(&(len as u64).to_be_bytes());
        frame.extend(std::iter::repeat_n(7u8, len));
        let mut got = 0;
        // In pieces, so the message is gathered in the receiver's buffer.
        for piece in frame.chunks(1000) {
            rx.feed(piece, &mut |i| {
                if let Incoming::Message { data, .. } = i {
                    got = data.len();
                }
                Flow::Continue
            })
            .expect("valid frame");
        }
        assert_eq!(got, len);
        assert!(
            rx.buf.capacity() <= KEEP_BETWEEN_MESSAGES,
            "{}",
            rx.buf.capacity()
        );
        assert!(rx.scratch.capacity() <= KEEP_BETWEEN_MESSAGES);
    }
}
