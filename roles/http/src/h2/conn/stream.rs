//! One stream's state as the connection keeps it, and its parked
//! response DATA: the chunks as the role queued them (no byte-wise
//! queue), released frame by frame as the peer's windows open.
//!
//! It must not decide what to send: `send` does.

use std::collections::VecDeque;

use crate::h2::frame::{self, flag, kind};

#[derive(Debug)]
pub(super) struct Stream {
    /// END_STREAM received.
    pub recv_closed: bool,
    /// END_STREAM sent (or queued behind `pending`).
    pub send_closed: bool,
    pub send_window: i64,
    pub recv_window: i64,
    pub unreleased: u32,
    pub content_length: Option<u64>,
    pub received: u64,
    /// Response DATA waiting for window.
    pub pending: Parked,
    pub end_pending: bool,
    /// A response head was queued (later HEADERS are trailers).
    pub head_sent: bool,
}

impl Stream {
    pub fn new(send_window: i64, recv_window: i64, end_stream: bool, cl: Option<u64>) -> Self {
        Stream {
            recv_closed: end_stream,
            send_closed: false,
            send_window,
            recv_window,
            unreleased: 0,
            content_length: cl,
            received: 0,
            pending: Parked::default(),
            end_pending: false,
            head_sent: false,
        }
    }
}

/// Response bytes parked for the peer's window, as queued chunks.
#[derive(Debug, Default)]
pub(super) struct Parked {
    chunks: VecDeque<Vec<u8>>,
    /// Bytes of the front chunk already sent.
    head: usize,
    len: usize,
}

impl Parked {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn push(&mut self, data: &[u8]) {
        if !data.is_empty() {
            self.chunks.push_back(data.to_vec());
            self.len += data.len();
        }
    }

    /// Drop everything; the bytes dropped.
    pub fn clear(&mut self) -> usize {
        let n = self.len;
        *self = Parked::default();
        n
    }

    /// Append one DATA frame carrying the first `n` parked bytes (at
    /// most one frame's worth) to `out`.
    pub fn write_frame(&mut self, out: &mut Vec<u8>, stream: u32, n: usize, end: bool) {
        let n = n.min(self.len);
        let flags = if end { flag::END_STREAM } else { 0 };
        frame::write_head(out, n, kind::DATA, flags, stream);
        let mut left = n;
        while left > 0 {
            let Some(front) = self.chunks.front() else {
                break;
            };
            let avail = &front[self.head..];
            let take = avail.len().min(left);
            out.extend_from_slice(&avail[..take]);
            left -= take;
            self.len -= take;
            if take == avail.len() {
                self.chunks.pop_front();
                self.head = 0;
            } else {
                self.head += take;
            }
        }
    }
}
