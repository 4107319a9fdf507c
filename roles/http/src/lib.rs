//! # lws-role-http: HTTP/1.1 and HTTP/2 for lws
//!
//! A sans-IO HTTP/1.1 server role: strict request parsing (RFC 9112, as
//! strict as nginx about framing), keep-alive and pipelining, chunked
//! bodies both ways, `Expect: 100-continue`, request bodies streamed to the
//! handler, static files from mounts (ranges, validators, index files), and
//! a response API that always frames correctly. The same handlers and
//! mounts also serve HTTP/2 ([`h2`]): connections that negotiate ALPN `h2`
//! or open with the HTTP/2 preface switch to the HTTP/2 role. Handlers see
//! the same thing on both versions: exchanges (one request, one response;
//! an HTTP/2 stream or an HTTP/1 request), each with its own state, and a
//! handle ([`HttpCx`]) whose every method acts on that exchange. Unknown
//! methods (501), `CONNECT` (501 unless opted in) and other methods on
//! static files (405 with `Allow`) are answered by the library. The
//! HTTP/1.1 client is in [`client`].
//!
//! ```no_run
//! use lws_core::{Context, VhostBuilder};
//! use lws_role_http::{HttpCx, HttpEvent, HttpHandler, HttpProtocol};
//!
//! struct Hello;
//! impl HttpHandler for Hello {
//!     type Exchange = ();
//!     fn on_event(&mut self, cx: &mut HttpCx<'_, '_>, _: &mut (), ev: HttpEvent<'_>) {
//!         if let HttpEvent::BodyEnd = ev {
//!             let _ = cx.respond(200, &[("Content-Type", "text/plain")], b"hello\n");
//!         }
//!     }
//! }
//! let ctx = Context::builder()
//!     .vhost(VhostBuilder::new("default").listen("127.0.0.1:8080".parse().unwrap())
//!         .protocol("http", HttpProtocol::new(Hello)))
//!     .build();
//! ```
//!
//! Parsers live in [`parse`] (pure, fuzzed); this crate never touches a
//! socket: the core does the I/O.
//!
//! Features: `http1` (the HTTP/1.1 server and client) and `http2` (the
//! HTTP/2 server, which needs `http1`: it is entered from the HTTP/1
//! server's listener), both default. Without `http2` no HTTP/2 code is
//! built, and HTTP/2 prefaces are refused as HTTP/1.
#![forbid(unsafe_code)]

#[cfg(feature = "http1")]
pub mod client;
#[cfg(feature = "http2")]
pub mod h2;
#[cfg(all(feature = "http1", not(feature = "http2")))]
#[path = "h2_off.rs"]
mod h2;
pub mod parse;
#[cfg(feature = "http1")]
pub mod server;

#[cfg(feature = "http1")]
pub use client::{
    ClientCx, ClientError, ClientEvent, ClientRequest, HttpClientHandler, HttpClientProtocol,
    RequestBody,
};
#[cfg(feature = "http1")]
pub use server::config::{Beneath, Mount, ServerConfig};
#[cfg(feature = "http1")]
pub use server::exchange::{HttpCx, HttpError};
#[cfg(feature = "http1")]
pub use server::protocol::{HttpEvent, HttpHandler, HttpProtocol, NotFound};
#[cfg(feature = "http1")]
pub use server::request::Request;
#[cfg(feature = "http1")]
pub use server::role::UpgradeRequest;
