//! Header blocks: request heads and trailers in (HEADERS + CONTINUATION
//! assembled, bounded, HPACK-decoded, validated into a [`RequestHead`]),
//! and response heads out, encoded with `loona-hpack` without indexing.
//!
//! It must not look at DATA or windows.
//!
//! [`RequestHead`]: crate::parse::RequestHead

use crate::h2::frame::{self, ErrorCode, FrameHead, flag};
use crate::h2::request::{self, CONNECTION_SPECIFIC, Malformed};
use crate::parse::BodyFraming;

use super::stream::Stream;
use super::{ConnError, H2Conn, H2Event, StreamGone, err, unpadded};

/// A header block being assembled from HEADERS + CONTINUATION.
#[derive(Debug)]
pub(super) struct Block {
    pub(super) stream: u32,
    end_stream: bool,
    buf: Vec<u8>,
    /// Frames in the block so far (empty CONTINUATIONs cost no bytes).
    frames: u32,
    /// What to do once decoded.
    then: BlockUse,
}

/// Most frames one header block may span.
const MAX_BLOCK_FRAMES: u32 = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockUse {
    NewStream,
    Trailers,
    /// Decode (to keep HPACK in step), then reset with this code.
    Reset(ErrorCode),
    /// Decode, then treat as a connection error (closed stream).
    Fatal(ErrorCode),
}

impl H2Conn {
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

    pub(super) fn on_headers(&mut self, h: FrameHead, payload: &[u8]) -> Result<(), ConnError> {
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

    pub(super) fn on_continuation(
        &mut self,
        h: FrameHead,
        payload: &[u8],
    ) -> Result<(), ConnError> {
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
                    Stream::new(
                        self.peer_initial_window,
                        i64::from(self.cfg.stream_window),
                        block.end_stream,
                        content_length,
                    ),
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
}
