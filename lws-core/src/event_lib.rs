//! The contract between the core and an event loop adapter.
//!
//! An adapter mirrors the core's [`IoCmd`]s onto its loop's watchers and
//! reports readiness back. [`EventLib::sync`] (provided) drains the queue
//! into the adapter; adapters call it after every entry into the context.
//! Owned loops also implement [`RunLoop`]; adapters for host-owned
//! ("foreign") loops offer their own attach/detach API instead, because each
//! host loop type differs, but they use the same [`EventLib`] core.

use std::io;
use std::os::fd::RawFd;
use std::time::Instant;

use crate::context::Context;
use crate::error::Error;
use crate::io_cmd::IoCmd;
use crate::token::{Interest, Readiness, Token};

/// Something a loop's watcher observed, for adapters that queue
/// observations from C callbacks and hand them over later (owned mode) or
/// at once (foreign mode) with [`Context::handle_event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoopEvent {
    /// A descriptor watcher fired.
    Io(Token, Readiness),
    /// The loop's timer fired.
    Timer,
    /// The idle/immediate watcher armed for forced service fired.
    Forced,
}

/// Where a callback-driven adapter puts what its loop observed: queued for
/// an owned run loop, which holds the `&mut Context` and serves the queue
/// after each loop iteration, or served at once on the context the adapter
/// holds itself (foreign mode, where callbacks are the only entry).
#[derive(Debug)]
pub enum EventSink {
    Queue(Vec<LoopEvent>),
    Direct(Option<Box<Context>>),
}

impl EventSink {
    /// The queued observations, in order (none in direct mode).
    pub fn take_queued(&mut self) -> Vec<LoopEvent> {
        match self {
            EventSink::Queue(q) => std::mem::take(q),
            EventSink::Direct(_) => Vec::new(),
        }
    }
}

impl Context {
    /// Serve one [`LoopEvent`].
    pub fn handle_event(&mut self, ev: LoopEvent) {
        match ev {
            LoopEvent::Io(t, r) => self.service_io(t, r),
            LoopEvent::Timer => self.service_timers(Instant::now()),
            LoopEvent::Forced => self.service_forced(),
        }
    }
}

/// One event loop's watcher operations.
pub trait EventLib {
    /// Short name ("poll", "mio", "glib", ...).
    fn name(&self) -> &'static str;

    /// Whether readiness is edge-triggered: then the core reads until the
    /// descriptor would block instead of once per event.
    fn edge_triggered(&self) -> bool {
        false
    }

    fn watch(&mut self, fd: RawFd, token: Token, interest: Interest) -> io::Result<()>;
    fn modify(&mut self, fd: RawFd, token: Token, interest: Interest) -> io::Result<()>;
    fn unwatch(&mut self, fd: RawFd, token: Token) -> io::Result<()>;
    /// Re-arm the loop's single timer (`None`: no timer).
    fn set_timer(&mut self, deadline: Option<Instant>);

    /// Apply every queued command. A descriptor the loop refuses to watch
    /// closes that connection only.
    fn sync(&mut self, ctx: &mut Context) {
        while let Some(cmd) = ctx.poll_io() {
            match cmd {
                IoCmd::Watch {
                    fd,
                    token,
                    interest,
                } => {
                    if let Err(e) = self.watch(fd, token, interest) {
                        ctx.watch_failed(token, e);
                    }
                }
                IoCmd::Modify {
                    fd,
                    token,
                    interest,
                } => {
                    if let Err(e) = self.modify(fd, token, interest) {
                        ctx.watch_failed(token, e);
                    }
                }
                IoCmd::Unwatch { fd, token, closing } => {
                    if let Err(e) = self.unwatch(fd, token) {
                        log::debug!("{}: unwatch fd {fd}: {e}", self.name());
                    }
                    drop(closing);
                }
                IoCmd::Timer(deadline) => self.set_timer(deadline),
            }
        }
    }
}

/// A loop the library owns and runs.
pub trait RunLoop {
    /// Short name ("poll", "glib", ...), for messages.
    fn name(&self) -> &'static str;

    /// Run `ctx` until it has stopped (see [`Context::stop`]).
    fn run(&mut self, ctx: &mut Context) -> Result<(), Error>;
}
