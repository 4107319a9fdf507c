//! # lws-role-ws: WebSocket (RFC 6455, permessage-deflate RFC 7692)
//!
//! Server connections arrive as HTTP/1.1 upgrades (the http1 role hands
//! the request over); client connections start with [`client::connect`].
//! Both sides deliver typed [`WsEvent`]s to a [`WsHandler`] and send
//! through a [`WsCx`]. Pure protocol pieces (frames, masking, UTF-8,
//! close codes, handshake keys, deflate) are in [`proto`]; this crate does
//! no I/O itself. Clients can reconnect with backoff by an lws-core
//! `RetryPolicy` ([`ClientOptions::reconnect`]).
#![forbid(unsafe_code)]

pub mod client;
mod cx;
mod event;
pub mod proto;
mod reconnect;
mod role;
pub mod rx;
mod server;
mod tx;

pub use client::{ClientError, ClientOptions};
pub use cx::{SendError, WsCx};
pub use event::{Message, WsConfig, WsEvent, WsHandler, WsProtocol};
