//! Adapter state shared by the libuv callbacks: the context (foreign mode)
//! or a queue of what fired (owned mode), and the handles the library owns
//! on the loop. Holds no libuv calls itself.

use std::collections::HashMap;
use std::os::fd::RawFd;
use std::time::Instant;

use lws_core::{Context, Readiness, Token};

/// Something a libuv handle observed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fired {
    Io(Token, Readiness),
    Timer,
    Forced,
}

/// Where observations go.
pub(crate) enum Sink {
    /// Owned mode: the run loop hands them to the context it borrows.
    Queue(Vec<Fired>),
    /// Foreign mode: served at once, on the context held here.
    Direct(Option<Box<Context>>),
}

pub(crate) fn deliver(ctx: &mut Context, f: Fired) {
    match f {
        Fired::Io(t, r) => ctx.service_io(t, r),
        Fired::Timer => ctx.service_timers(Instant::now()),
        Fired::Forced => ctx.service_forced(),
    }
}

pub(crate) struct Shared {
    pub lp: *mut libuv_sys2::uv_loop_t,
    pub sink: Sink,
    /// fd -> its poll handle (raw, owned by libuv until its close callback).
    pub polls: HashMap<RawFd, *mut crate::ffi::PollHandle>,
    pub timer: *mut crate::ffi::TimerHandle,
    pub idle: *mut crate::ffi::IdleHandle,
    pub idle_on: bool,
    /// Handles closed whose close callback has not run yet.
    pub closing: usize,
    /// All handles are gone (teardown complete).
    pub detached: bool,
    pub on_stopped: Option<Box<dyn FnOnce(Context)>>,
}
