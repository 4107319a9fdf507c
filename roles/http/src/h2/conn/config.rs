//! The HTTP/2 connection's limits and windows, with their defaults.
//!
//! It must hold settings only: the connection and the role apply them.

use std::time::Duration;

use crate::h2::request::HeadLimits;

/// Connection limits and windows.
#[derive(Clone, Copy, Debug)]
pub struct H2Config {
    /// SETTINGS_MAX_CONCURRENT_STREAMS: streams beyond it are refused.
    pub max_concurrent_streams: u32,
    /// The receive window of each stream (SETTINGS_INITIAL_WINDOW_SIZE).
    pub stream_window: u32,
    /// The connection's receive window.
    pub conn_window: u32,
    /// Largest header block (all its frames) accepted before the
    /// connection is closed with ENHANCE_YOUR_CALM.
    pub max_header_block: usize,
    /// Largest decoded header list; larger requests get 431.
    pub max_header_list: usize,
    pub head: HeadLimits,
    /// Most response bytes parked per connection while the peer's
    /// flow-control windows are closed. At the cap, `write_body` is
    /// refused with `lws_core::Error::OutputLimit` (nothing written; a
    /// `Writable` follows when room frees up) and file mounts wait; new
    /// streams wait before their handler sees them while one more
    /// response as large as the largest so far would not fit. One write
    /// (or one `respond` body, which is parked whole) may cross it.
    pub max_parked: usize,
    /// How long the connection may hold parked response DATA without
    /// sending any DATA at all (the peer keeps its windows closed) before
    /// it ends with GOAWAY(ENHANCE_YOUR_CALM) (RFC 9113 §10.5: the peer
    /// holds the server's memory without reading). Frames the peer sends
    /// (PING, SETTINGS, ...) do not restart the clock; only DATA going
    /// out does. A stream whose window alone stays closed while others
    /// progress keeps its parked bytes, inside the cap.
    pub send_stall_timeout: Duration,
}

impl Default for H2Config {
    fn default() -> Self {
        H2Config {
            max_concurrent_streams: 100,
            stream_window: 256 * 1024,
            conn_window: 1024 * 1024,
            max_header_block: 64 * 1024,
            max_header_list: 16 * 1024,
            head: HeadLimits {
                max_uri: 8 * 1024,
                max_headers: 100,
            },
            max_parked: 1024 * 1024,
            send_stall_timeout: Duration::from_secs(30),
        }
    }
}
