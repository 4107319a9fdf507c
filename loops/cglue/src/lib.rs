//! # lws-cglue: one glue for the callback-driven C loops
//!
//! libuv, libevent, libev, sd-event and uloop all call back into the
//! library from C. What happens then is the same for all of them and lives
//! here, once: the adapter state (the context or the owned run's queue, the
//! descriptor watchers, teardown accounting), serving an event, applying the
//! context's commands, teardown, `attach` / `with_context` / `is_detached`
//! and the owned run loop.
//!
//! An adapter crate implements [`Watchers`] (create, re-arm and release a
//! descriptor watcher; arm the timer; switch forced service; release the
//! fixed sources) in its `ffi.rs`, and its C callbacks call
//! [`Adapter::serve`] and [`Adapter::closed`]. Nothing else.
//!
//! Re-entrancy: a callback that arrives while the state is in use (the host
//! runs its loop from inside [`Attached::with_context`], from `on_stopped`
//! or from a library callback) is never dropped. Events wait in a queue
//! outside the state and close completions are counted outside it; whoever
//! holds the state serves them as soon as it lets go.
//!
//! This crate forbids `unsafe`: it holds no C pointers and calls no C.
//! Keeping the adapter alive for as long as a C handle points at it is the
//! adapter's job (each handle holds a strong count of its [`Link`]).

#![forbid(unsafe_code)]

mod adapter;
mod attach;
mod host;
mod owned;

use std::io;
use std::os::fd::RawFd;
use std::time::Instant;

use lws_core::{Interest, Token};

pub use adapter::{Adapter, Link};
pub use attach::Attached;
pub use host::{Host, Kept, LoopOwner, Owner};
pub use owned::{OwnedLoop, run_owned};

/// One C loop's watcher operations: all an adapter crate implements.
///
/// Every method runs on the loop's thread with the adapter state borrowed;
/// none may run the loop.
pub trait Watchers: Sized + 'static {
    /// The loop this adapter creates (owned mode, Rust hosts) and attaches
    /// to.
    type Owner: LoopOwner;
    /// One descriptor's watcher.
    type Io;
    /// The loop's name, for errors and logs ("libuv", ...).
    const NAME: &'static str;
    /// Whether readiness is reported edge-triggered.
    const EDGE_TRIGGERED: bool = false;

    /// The operations on `host`'s loop (no sources yet).
    fn new(host: Kept<Self::Owner>) -> Self;
    /// Create the timer and forced-service sources (both idle).
    fn init(&mut self, link: &Link<Self>) -> io::Result<()>;
    /// Create a watcher for `fd`; [`Watchers::io_modify`] follows at once.
    /// `interest` is a hint for loops that need events at creation.
    fn io_new(
        &mut self,
        link: &Link<Self>,
        fd: RawFd,
        token: Token,
        interest: Interest,
    ) -> io::Result<Self::Io>;
    /// Watch `interest` on `fd` from now on (`Interest::NONE`: nothing, and
    /// the fd leaves the loop's backend now).
    fn io_modify(&mut self, io: &mut Self::Io, fd: RawFd, interest: Interest) -> io::Result<()>;
    /// Stop and release a watcher: the fd leaves the loop's backend now.
    /// A release that completes later calls [`Adapter::close_started`] here
    /// and [`Adapter::closed`] when it is done.
    fn io_close(&mut self, link: &Link<Self>, io: Self::Io);
    /// Re-arm the single timer (`None`: off). It must not fire early.
    fn set_timer(&mut self, deadline: Option<Instant>);
    /// Switch the forced-service source (fires at the next iteration).
    fn set_forced(&mut self, on: bool);
    /// Teardown: release the timer and forced-service sources (as
    /// [`Watchers::io_close`] does for watchers).
    fn close_fixed(&mut self, link: &Link<Self>);
}

fn loop_err<W: Watchers>(e: io::Error) -> lws_core::Error {
    lws_core::Error::Loop {
        lib: W::NAME,
        source: e,
    }
}
