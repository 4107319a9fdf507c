//! Stream lifetimes (open, reset, closed, remembered as recently closed)
//! and the connection-level control frames: SETTINGS, PING, GOAWAY,
//! RST_STREAM (with the rapid-reset guard, CVE-2023-44487) and PRIORITY.
//!
//! It must not move DATA: `send` and `recv` do.

use crate::h2::frame::{self, ErrorCode, FrameHead, flag, setting};

use super::{ConnError, H2Conn, H2Event, State, err};

/// Peer resets tolerated before checking for a rapid-reset attack
/// (CVE-2023-44487): beyond it, more than half of all streams reset by
/// the peer ends the connection with ENHANCE_YOUR_CALM.
const RESET_ALLOWANCE: u32 = 100;

/// How many closed stream identifiers are remembered.
const RECENTLY_CLOSED: usize = 128;

impl H2Conn {
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

    /// Drop a stream, remembering it among the recently closed.
    pub(super) fn forget(&mut self, stream: u32) -> bool {
        let Some(mut s) = self.streams.remove(&stream) else {
            return false;
        };
        self.parked -= s.pending.clear();
        if self.recently_closed.len() == RECENTLY_CLOSED {
            self.recently_closed.pop_front();
        }
        self.recently_closed.push_back(stream);
        true
    }

    pub(super) fn idle(&self, stream: u32) -> bool {
        stream > self.last_stream && !self.streams.contains_key(&stream)
    }

    /// A stream error: RST_STREAM, forget the stream, tell the role.
    pub(super) fn stream_error(&mut self, stream: u32, code: ErrorCode) {
        frame::write_rst_stream(&mut self.out, stream, code);
        if self.forget(stream) {
            self.events.push_back(H2Event::Reset { stream, code });
        }
    }

    pub(super) fn drop_if_done(&mut self, stream: u32) {
        if self.streams.get(&stream).is_some_and(|s| {
            s.recv_closed && s.send_closed && s.pending.is_empty() && !s.end_pending
        }) {
            self.forget(stream);
        }
    }

    pub(super) fn on_priority(&mut self, h: FrameHead, payload: &[u8]) -> Result<(), ConnError> {
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

    pub(super) fn on_rst(&mut self, h: FrameHead, payload: &[u8]) -> Result<(), ConnError> {
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

    pub(super) fn on_settings(&mut self, h: FrameHead, payload: &[u8]) -> Result<(), ConnError> {
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
                setting::INITIAL_WINDOW_SIZE => opened |= self.set_peer_initial_window(v)?,
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

    pub(super) fn on_ping(&mut self, h: FrameHead, payload: &[u8]) -> Result<(), ConnError> {
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

    pub(super) fn on_goaway(&mut self, h: FrameHead, payload: &[u8]) -> Result<(), ConnError> {
        if h.stream != 0 {
            return err(ErrorCode::Protocol, "GOAWAY on a stream");
        }
        if payload.len() < 8 {
            return err(ErrorCode::FrameSize, "GOAWAY shorter than 8 octets");
        }
        self.peer_goaway = true;
        Ok(())
    }
}
