//! WebSocket role for lws (RFC 6455, permessage-deflate RFC 7692).
#![forbid(unsafe_code)]

pub mod proto;
