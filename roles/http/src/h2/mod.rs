//! HTTP/2 server (RFC 9113) for the same [`HttpProtocol`] handlers and
//! mounts as HTTP/1.1: a connection negotiated by ALPN `h2` on TLS, or a
//! cleartext one opening with the HTTP/2 preface (prior knowledge), runs
//! the `role` instead of the HTTP/1 one; each stream is one exchange
//! for the handler, with its own exchange state.
//!
//! `frame` and `request` are pure, `conn` is the sans-IO connection state
//! machine (fuzzed), `role` binds it to lws connections and handlers, and
//! `exchange` is one stream as a handler's `HttpCx` drives it.
//!
//! [`HttpProtocol`]: crate::HttpProtocol

pub mod conn;
mod exchange;
pub mod frame;
pub mod hpack;
pub mod request;
pub(crate) mod role;

#[cfg(test)]
mod conn_tests;

pub use conn::{ConnError, H2Config, H2Conn, H2Event, StreamGone};
pub use frame::ErrorCode;
