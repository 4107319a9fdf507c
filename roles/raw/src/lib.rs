//! # lws-role-raw: raw sockets, raw files and UDP
//!
//! The simplest role: bytes in, bytes out, no framing. It binds a user
//! [`RawHandler`] to TCP and Unix-domain connections (accepted, adopted or
//! opened as clients), to adopted pipes/ttys, and to adopted UDP sockets.
//!
//! ```no_run
//! use lws_core::{Context, VhostBuilder};
//! use lws_role_raw::{RawCx, RawEvent, RawProtocol};
//!
//! let echo = RawProtocol::from_fn(|cx: &mut RawCx<'_>, ev: RawEvent<'_>| {
//!     if let RawEvent::Rx(data) = ev {
//!         let _ = cx.write(data);
//!     }
//! });
//! let ctx = Context::builder()
//!     .vhost(VhostBuilder::new("default").listen("127.0.0.1:7681".parse().unwrap()).protocol("echo", echo))
//!     .build();
//! ```
//!
//! This crate must not do IO itself: all reads and writes go through the
//! core's [`ConnCx`].
#![forbid(unsafe_code)]

mod event;
mod role;

pub use event::{OpenKind, RawEvent};
pub use role::{FnHandler, RawHandler, RawProtocol};

/// The handle a raw handler acts through: write, ask for writable, close,
/// timers. It is the core's connection handle; raw adds no framing.
pub type RawCx<'a> = lws_core::ConnCx<'a>;
pub use lws_core::ConnCx;
