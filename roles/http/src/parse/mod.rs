//! Pure HTTP/1.1 parsers and serializers: bytes in, typed values out, no
//! sockets. Each function here is fuzzed and table-tested against the RFC
//! rule it enforces.

pub mod chunked;
pub mod error;
pub mod fields;
pub mod range;
pub mod request;
pub mod response;

pub use chunked::{ChunkedDecoder, encode_chunk_header};
pub use error::{ChunkError, HeadError};
pub use fields::Headers;
pub use request::{BodyFraming, Limits, RequestHead, Version, parse_request};

#[cfg(test)]
mod request_tests;
