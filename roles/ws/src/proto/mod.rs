//! Pure WebSocket protocol pieces: framing, masking, UTF-8, close codes,
//! handshake keys, permessage-deflate. No sockets, no role state.

pub mod close;
pub mod deflate;
pub mod error;
pub mod frame;
pub mod handshake;
pub mod mask;
pub mod utf8;

pub use error::WsError;
pub use frame::{FrameHeader, MAX_HEADER_LEN, Opcode, Side, parse_header, write_header};
