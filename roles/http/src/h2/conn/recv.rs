//! The receive direction: request DATA against our windows (RFC 9113
//! §6.1, §6.9), content-length checks (§8.1.1), and the window updates
//! sent back as the role releases what its handlers consumed.
//!
//! It must not hold body bytes: they leave at once as [`H2Event::Data`].

use crate::h2::frame::{self, ErrorCode, FrameHead, flag};

use super::{ConnError, H2Conn, H2Event, err, unpadded};

impl H2Conn {
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

    pub(super) fn on_data(&mut self, h: FrameHead, payload: &[u8]) -> Result<(), ConnError> {
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
}
