//! permessage-deflate (RFC 7692): the parameters negotiated in the
//! handshake (`negotiate`) and the per-message compressor and inflater
//! (`codec`). Pure: no sockets, no role state.

mod codec;
mod negotiate;

pub use codec::{Deflater, Inflater};
pub use negotiate::{Policy, accept_client, client_offer, negotiate_server};

/// The extension's name in `Sec-WebSocket-Extensions`.
pub const NAME: &str = "permessage-deflate";

/// The negotiated parameters, from this endpoint's point of view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeflateParams {
    /// Reset our compressor after every message.
    pub our_no_context_takeover: bool,
    /// The peer resets its compressor after every message (so our
    /// inflater resets too).
    pub peer_no_context_takeover: bool,
    /// Largest window our compressor may use (8..=15; with 8 we send
    /// uncompressed messages: zlib cannot compress with an 8-bit window).
    pub our_max_window_bits: u8,
    /// Largest window the peer's compressor may use (8..=15); sizes our
    /// inflater.
    pub peer_max_window_bits: u8,
}
