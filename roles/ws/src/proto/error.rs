//! WebSocket protocol violations, each with the close code to send.

/// Why a WebSocket connection must be failed (RFC 6455 section 7.1.7).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WsError {
    #[error("protocol error: {0}")]
    Protocol(&'static str),
    #[error("invalid UTF-8 in a text message or close reason")]
    InvalidUtf8,
    #[error("message too big ({size} bytes, limit {limit})")]
    TooBig { size: u64, limit: u64 },
    #[error("compressed data is invalid: {0}")]
    Deflate(String),
}

impl WsError {
    /// The close code this violation is reported with.
    pub fn close_code(&self) -> u16 {
        match self {
            WsError::Protocol(_) => 1002,
            WsError::InvalidUtf8 => 1007,
            WsError::TooBig { .. } => 1009,
            WsError::Deflate(_) => 1007,
        }
    }
}
