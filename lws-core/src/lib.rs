//! # lws-core: the event-loop independent heart of lws
//!
//! This crate owns everything that is the same whatever event loop runs it:
//! the [`Context`] with its vhosts and protocols, the connection table
//! (addressed by generational [`Token`]s), the [`Scheduler`] of timers, write
//! flow control and the close path.
//!
//! It is *sans-IO with respect to the event loop*: it performs the socket
//! reads and writes itself, but never waits. A loop adapter (see
//! [`EventLib`]) tells it "this token is ready" ([`Context::service_io`]) and
//! "timers are due" ([`Context::service_timers`]); after each call the adapter
//! drains the queued [`IoCmd`]s ([`Context::poll_io`]) and applies them to its
//! watchers. The core never calls the loop, and user code never sees it.
//!
//! Host names are resolved without blocking by the context's own stub
//! resolver ([`lws_dns`]), whose UDP/TCP sockets are ordinary watched
//! descriptors and whose retry timer folds into [`Context::next_deadline`]:
//! a [`Connect::host`] connection has its token at once and races the
//! name's addresses with Happy Eyeballs (RFC 8305) once they come;
//! [`Context::lookup`] and [`Cx::lookup`] resolve a name for a protocol.
//!
//! Clients decide when to reconnect with a [`RetryPolicy`] (C's
//! `lws_retry_bo_t`) and a per-connection [`Backoff`]; the core does not
//! retry anything itself. A [`ManualClock`] lets a test drive the
//! context's time (timers, timeouts, retry delays) by hand.
//!
//! What this crate must not do: depend on any loop, role or TLS crate, block,
//! spawn threads, or contain `unsafe` code.
#![forbid(unsafe_code)]

mod clock;
mod conn;
mod context;
mod cx;
mod dns;
mod error;
mod event_lib;
mod eyeballs;
mod io_cmd;
mod out_buf;
mod protocol;
mod remote;
mod retry;
mod role;
mod scheduler;
mod socket;
mod tls;
mod token;
mod vhost;

pub use clock::ManualClock;
pub use context::{Context, ContextBuilder, Stats};
pub use cx::{ConnCx, Cx};
pub use dns::{DnsConfig, Lookup, dns_error};
pub use error::{Error, Result};
pub use event_lib::{EventLib, EventSink, LoopEvent, RunLoop};
pub use io_cmd::{Closing, IoCmd};
pub use lws_dns::{ConfigPaths as DnsPaths, DnsError, FamilyPref};
pub use protocol::{ContextEvent, Origin, Protocol, downcast_protocol};
pub use remote::Remote;
pub use retry::{
    Backoff, Conceal, RetryDecision, RetryPolicy, RetryPolicyBuilder, RetryPolicyError, RetryRng,
};
pub use role::{CloseReason, Disposition, Role};
pub use scheduler::{Scheduler, TimerId};
pub use socket::{Adopt, Connect, Endpoint};
pub use tls::{
    SharedTlsBackend, TlsAcceptor, TlsBackend, TlsClientSpec, TlsConnector, TlsError,
    TlsServerSpec, TlsSession, TlsVhost, sni_name_matches,
};
pub use token::{Interest, Readiness, Token};
pub use vhost::VhostBuilder;
