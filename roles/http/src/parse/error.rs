//! Errors from parsing HTTP/1 messages, each mapped to the status a server
//! answers with.

/// A request head the server must refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeadError {
    #[error("malformed request: {0}")]
    Malformed(String),
    #[error("request header fields too large")]
    HeadTooLarge,
    #[error("too many header fields")]
    TooManyHeaders,
    #[error("request target too long")]
    UriTooLong,
    #[error("HTTP version not supported")]
    VersionNotSupported,
    #[error("transfer coding not implemented")]
    UnsupportedCoding,
    #[error("expectation not supported")]
    ExpectationFailed,
}

impl HeadError {
    /// The response status for this error.
    pub fn status(&self) -> u16 {
        match self {
            HeadError::Malformed(_) => 400,
            HeadError::HeadTooLarge | HeadError::TooManyHeaders => 431,
            HeadError::UriTooLong => 414,
            HeadError::VersionNotSupported => 505,
            HeadError::UnsupportedCoding => 501,
            HeadError::ExpectationFailed => 417,
        }
    }
}

/// A chunked body that violates RFC 9112 section 7.1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChunkError {
    #[error("invalid chunk size line")]
    BadSize,
    #[error("chunk size overflows")]
    SizeOverflow,
    #[error("chunk extension too long")]
    ExtensionTooLong,
    #[error("missing CRLF after chunk data")]
    MissingCrlf,
    #[error("bare LF or CR in chunked framing")]
    BareLineEnding,
    #[error("trailer section too large")]
    TrailerTooLarge,
    #[error("invalid trailer field")]
    BadTrailer,
    #[error("body exceeds the limit")]
    TooLarge,
}

impl ChunkError {
    pub fn status(&self) -> u16 {
        match self {
            ChunkError::TooLarge => 413,
            _ => 400,
        }
    }
}
