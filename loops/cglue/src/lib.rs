//! # lws-cglue: one glue for the callback-driven C loops
//!
//! libuv, libevent, libev, sd-event and uloop all call back into the
//! library from C. What happens then is the same for all of them and lives
//! here, once: the adapter state (the context or the owned run's queue, the
//! descriptor watchers, teardown accounting), serving an event, applying the
//! context's commands, teardown, `attach` / `with_context` / `is_detached`
//! and the owned run loop.
//!
//! An adapter crate implements [`Watchers`] (make a descriptor watcher,
//! the timer or the forced-service source; re-arm each; release it) and
//! [`LoopOwner`] (create and free its loop) in its `ffi` module, and its C
//! callbacks call [`Adapter::serve`] and [`Adapter::closed`]. Nothing else.
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
mod slot;

use std::io;
use std::os::fd::RawFd;
use std::time::Instant;

use lws_core::{Interest, Token};

#[doc(hidden)]
pub use lws_core::Context;

pub use adapter::{Adapter, Link};
pub use attach::Attached;
pub use host::{Host, Kept, LoopOwner, Owner, live_loops};
pub use owned::{OwnedLoop, run_owned};
pub use slot::{Kind, Slot};

/// What a new source of the library's is for.
#[derive(Debug, Clone, Copy)]
pub enum Source {
    /// A descriptor watcher; [`Watchers::watch`] follows at once
    /// (`interest` is a hint for loops that need events at creation).
    Io {
        fd: RawFd,
        token: Token,
        interest: Interest,
    },
    /// The single timer, re-armed with [`Watchers::arm`].
    Timer,
    /// The forced-service source, switched with [`Watchers::force`].
    Forced,
}

/// One C loop's watcher operations: all an adapter crate implements, on a
/// marker type. Each gets the loop (`lp`) and, where a source is made or
/// released, the adapter its callbacks serve (`link`).
///
/// Every function runs on the loop's thread with the adapter state
/// borrowed; none may run the loop. A source is only ever used as the
/// kind it was made for.
pub trait Watchers: Sized + 'static {
    /// The loop this adapter creates (owned mode, Rust hosts) and attaches
    /// to.
    type Owner: LoopOwner;
    /// One source of the library's on the loop (opaque: only `add` makes
    /// one).
    type Source;
    /// The loop's name, for errors and logs ("libuv", ...).
    const NAME: &'static str;
    /// Whether readiness is reported edge-triggered.
    const EDGE_TRIGGERED: bool = false;

    /// Make a source (idle: a timer unarmed, forced service off).
    fn add(lp: &Kept<Self::Owner>, link: &Link<Self>, what: Source) -> io::Result<Self::Source>;
    /// Watch `interest` on `fd` from now on (`Interest::NONE`: nothing, and
    /// the fd leaves the loop's backend now).
    fn watch(
        lp: &Kept<Self::Owner>,
        s: &mut Self::Source,
        fd: RawFd,
        i: Interest,
    ) -> io::Result<()>;
    /// Re-arm the timer (`None`: off). It must not fire early.
    fn arm(lp: &Kept<Self::Owner>, s: &mut Self::Source, deadline: Option<Instant>);
    /// Switch forced service (on: fires at the next iteration).
    fn force(lp: &Kept<Self::Owner>, s: &mut Self::Source, on: bool);
    /// Stop and release a source; a descriptor leaves the loop's backend
    /// now. A release that completes later calls [`Adapter::close_started`]
    /// here and [`Adapter::closed`] when it is done.
    fn release(lp: &Kept<Self::Owner>, link: &Link<Self>, s: Self::Source);
}

fn loop_err<W: Watchers>(e: io::Error) -> lws_core::Error {
    lws_core::Error::Loop {
        lib: W::NAME,
        source: e,
    }
}
