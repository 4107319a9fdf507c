//! The send direction: response DATA and the peer's flow-control windows
//! (RFC 9113 §6.9). DATA goes out at once as far as the stream's and the
//! connection's send windows allow; the rest is parked (as chunks) and
//! released by WINDOW_UPDATE or a larger SETTINGS_INITIAL_WINDOW_SIZE.
//! The connection counts the bytes parked on all streams, so the role can
//! hold writers at [`H2Config::max_parked`](super::H2Config), and the DATA
//! bytes sent, so it can tell a stalled peer from a slow one.
//!
//! It must not refuse writes itself: the cap is the role's policy.

use crate::h2::frame::{self, ErrorCode, FrameHead};

use super::{ConnError, H2Conn, H2Event, State, StreamGone, err};

impl H2Conn {
    /// Queue response body bytes (`end`: the last). What the stream's and
    /// the connection's send windows allow goes out now; the rest is
    /// parked until the peer opens its windows.
    pub fn send_data(&mut self, stream: u32, data: &[u8], end: bool) -> Result<(), StreamGone> {
        let max_frame = self.peer_max_frame;
        let dead = self.state == State::Dead;
        let Some(s) = self
            .streams
            .get_mut(&stream)
            .filter(|s| !s.send_closed && !dead)
        else {
            return Err(StreamGone(stream));
        };
        self.largest_write = self.largest_write.max(data.len());
        let mut rest = data;
        if s.pending.is_empty() && !rest.is_empty() {
            // Nothing parked ahead: send straight from `data`.
            let window = self.send_window.min(s.send_window).max(0) as usize;
            let n = rest.len().min(window);
            if n > 0 {
                let fin = end && n == rest.len();
                frame::write_data(&mut self.out, stream, &rest[..n], fin, max_frame);
                self.send_window -= n as i64;
                s.send_window -= n as i64;
                self.data_sent += n as u64;
                rest = &rest[n..];
                if fin {
                    self.end_sent(stream);
                    return Ok(());
                }
            }
        }
        s.pending.push(rest);
        self.parked += rest.len();
        if end {
            s.end_pending = true;
            s.send_closed = true;
        }
        self.flush_stream(stream);
        Ok(())
    }

    /// Response bytes parked on `stream` (waiting for window).
    pub fn pending(&self, stream: u32) -> usize {
        self.streams.get(&stream).map_or(0, |s| s.pending.len())
    }

    /// Response bytes parked on all streams.
    pub fn parked(&self) -> usize {
        self.parked
    }

    /// Whether a write of `len` more bytes fits under the parking cap:
    /// it does when nothing is parked (one write may cross the cap, as
    /// the core accepts one write while nothing is pending) or when the
    /// total stays within it.
    pub fn may_park(&self, len: usize) -> bool {
        self.parked == 0 || self.parked.saturating_add(len) <= self.cfg.max_parked
    }

    /// The parking cap ([`H2Config::max_parked`](super::H2Config)).
    pub fn max_parked(&self) -> usize {
        self.cfg.max_parked
    }

    /// Whether a new response should start now: nothing is parked, or one
    /// more write as large as the largest so far would fit under the cap
    /// (so same-sized `respond` bodies stay within it).
    pub fn may_start(&self) -> bool {
        self.may_park(self.largest_write)
    }

    /// The parking cap is reached: writers wait for room.
    pub fn at_cap(&self) -> bool {
        self.parked >= self.cfg.max_parked
    }

    /// Response DATA bytes sent since the connection started.
    pub fn data_sent(&self) -> u64 {
        self.data_sent
    }

    /// Whether `stream` can still take response bytes.
    pub fn can_send(&self, stream: u32) -> bool {
        self.state != State::Dead && self.streams.get(&stream).is_some_and(|s| !s.send_closed)
    }

    pub(super) fn open_for_send(
        &mut self,
        stream: u32,
    ) -> Result<&mut super::stream::Stream, StreamGone> {
        match self.streams.get_mut(&stream) {
            Some(s) if !s.send_closed && self.state != State::Dead => Ok(s),
            _ => Err(StreamGone(stream)),
        }
    }

    /// END_STREAM went out: drop the stream if the request side is done.
    pub(super) fn end_sent(&mut self, stream: u32) {
        if let Some(s) = self.streams.get_mut(&stream) {
            s.send_closed = true;
            s.end_pending = false;
            if s.recv_closed && s.pending.is_empty() {
                self.forget(stream);
            }
        }
    }

    /// Send what the windows allow of `stream`'s parked DATA.
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
            s.pending.write_frame(&mut self.out, stream, n, end);
            self.send_window -= n as i64;
            s.send_window -= n as i64;
            self.parked -= n;
            self.data_sent += n as u64;
            if end {
                break;
            }
        }
        self.end_sent(stream);
    }

    /// Send what the windows allow on every stream with parked DATA.
    pub(super) fn flush_all(&mut self) {
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

    /// The peer's SETTINGS_INITIAL_WINDOW_SIZE changed to `v` (§6.9.2):
    /// every stream's send window moves by the difference. Whether it
    /// grew (parked DATA may go).
    pub(super) fn set_peer_initial_window(&mut self, v: u32) -> Result<bool, ConnError> {
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
        Ok(delta > 0)
    }

    pub(super) fn on_window_update(
        &mut self,
        h: FrameHead,
        payload: &[u8],
    ) -> Result<(), ConnError> {
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
