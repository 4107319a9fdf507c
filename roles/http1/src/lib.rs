//! HTTP/1.1 role for lws: server and client.
#![forbid(unsafe_code)]

pub mod parse;
