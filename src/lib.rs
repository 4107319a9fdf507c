//! # lws: a callback-based networking library with a loop-independent core
//!
//! One crate to depend on; cargo features pick what is compiled in:
//!
//! | feature     | what                                   |
//! |-------------|----------------------------------------|
//! | `loop-poll` | the native epoll loop (default)        |
//! | `loop-mio`  | mio, owned or attached to a host's `Poll` |
//! | `loop-polling` | the `polling` crate, owned or on a host's `Poller` |
//! | `loop-calloop` | calloop: the context as an `EventSource` |
//! | `loop-glib` | GLib: owned, or sources on a host's `MainContext` (needs libglib2.0-dev) |
//! | `loop-libuv` | libuv: owned, or handles on a host's `uv_loop_t` (needs libuv1-dev) |
//! | `loop-libevent` | libevent: owned, or events on a host's `event_base` (needs libevent-dev) |
//! | `loop-libev` | libev: owned, or watchers on a host's `ev_loop` (needs libev-dev) |
//! | `loop-async-io` | async-io: the context as a task on any executor that drives async-io |
//! | `loop-uloop` | OpenWrt uloop (libubox, built from source by libubox-sys; needs cmake): owned, or watchers on the process's uloop |
//! | `loop-sdevent` | systemd sd-event: owned, or sources on a host's `sd_event` (needs libsystemd-dev) |
//! | `role-raw`  | raw TCP/Unix/UDP sockets and files (default) |
//! | `role-http1` | HTTP/1.1 server and client (default) |
//! | `role-http2` | HTTP/2 server on the same handlers and mounts; implies `role-http1` (default) |
//! | `tls-rustls` | TLS through rustls, on any loop (default) |
//! | `tls-openssl` | TLS through the system OpenSSL, on any loop (needs libssl-dev) |
//! | `role-ws`   | WebSocket server and client, permessage-deflate (default) |
//! | `role-mqtt` | MQTT 3.1.1 client, QoS 0/1/2 (default) |
//!
//! The core ([`Context`], vhosts, connections, timers) never depends on a
//! loop; a loop adapter drives it. [`loops::run`] runs a context on any
//! loop compiled in, by name.
//!
//! ```no_run
//! use lws::{Context, VhostBuilder};
//! use lws::raw::{RawEvent, RawProtocol};
//!
//! let echo = RawProtocol::from_fn(|cx, ev| {
//!     if let RawEvent::Rx(data) = ev {
//!         let _ = cx.write(data);
//!     }
//! });
//! let mut ctx = Context::builder()
//!     .vhost(VhostBuilder::new("default").listen("127.0.0.1:7681".parse()?).protocol("echo", echo))
//!     .build()?;
//! lws::loops::run("poll", &mut ctx)?;
//! # Ok::<(), lws::Error>(())
//! ```
#![forbid(unsafe_code)]

pub use lws_core as core;
pub use lws_core::{
    Adopt, Backoff, CloseReason, ConnCx, Connect, Context, ContextBuilder, ContextEvent, Cx,
    DnsConfig, DnsError, Endpoint, Error, EventLib, Lookup, Protocol, Remote, Result,
    RetryDecision, RetryPolicy, RetryPolicyError, RunLoop, TlsClientSpec, TlsServerSpec, Token,
    VhostBuilder, dns_error,
};

#[cfg(feature = "role-raw")]
pub use lws_role_raw as raw;

#[cfg(feature = "role-http1")]
pub use lws_role_http as http;

#[cfg(feature = "tls-rustls")]
pub use lws_tls_rustls as rustls;

#[cfg(feature = "tls-openssl")]
pub use lws_tls_openssl as openssl;

#[cfg(feature = "role-ws")]
pub use lws_role_ws as ws;

#[cfg(feature = "role-mqtt")]
pub use lws_role_mqtt as mqtt;

#[cfg(feature = "loop-poll")]
pub use lws_loop_poll as poll;

#[cfg(feature = "loop-mio")]
pub use lws_loop_mio as mio;

#[cfg(feature = "loop-polling")]
pub use lws_loop_polling as polling;

#[cfg(feature = "loop-calloop")]
pub use lws_loop_calloop as calloop;

#[cfg(feature = "loop-glib")]
pub use lws_loop_glib as glib;

#[cfg(feature = "loop-libuv")]
pub use lws_loop_libuv as libuv;

#[cfg(feature = "loop-libevent")]
pub use lws_loop_libevent as libevent;

#[cfg(feature = "loop-libev")]
pub use lws_loop_libev as libev;

#[cfg(feature = "loop-sdevent")]
pub use lws_loop_sdevent as sdevent;

#[cfg(feature = "loop-async-io")]
pub use lws_loop_async_io as async_io;

#[cfg(feature = "loop-uloop")]
pub use lws_loop_uloop as uloop;

pub mod loops;
pub mod tls;
