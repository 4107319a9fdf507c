//! # lws-loop-mio: lws on a mio `Poll`
//!
//! Two modes:
//! - **owned**: [`MioLoop`] creates a `mio::Poll` and runs the context on it
//!   ([`RunLoop::run`]).
//! - **foreign**: [`MioAttached`] registers the context's descriptors with
//!   the host's `mio::Registry`. The host keeps running its own `Poll`: it
//!   passes events whose token [`MioAttached::owns`] to
//!   [`MioAttached::handle`], folds [`MioAttached::timeout`] into its poll
//!   timeout and calls [`MioAttached::after_poll`] once per turn. The
//!   library never polls, and [`MioAttached::detach`] deregisters everything
//!   it added, leaving the host's `Poll` untouched otherwise.
//!
//! mio is edge-triggered, so the context is told to read until a descriptor
//! would block. mio cannot register an empty interest; a connection that
//! wants nothing (reads paused, nothing to write) is deregistered until it
//! wants something again. Tokens carry bit 63 so they never collide with the
//! host's own tokens (the host must not use tokens with bit 63 set).
//!
//! No unsafe code: mio's `SourceFd` borrows a raw fd safely; the core keeps
//! each fd open until its `Unwatch` is applied.
#![forbid(unsafe_code)]

mod registry;

use std::io;
use std::time::{Duration, Instant};

use lws_core::{Context, Error, EventLib, Interest, RunLoop, Token};
use mio::{Events, Poll};

/// The mio crate this adapter is built against (hosts use the same one).
pub use mio;
pub use registry::Registrations;

/// Bit marking the library's tokens in a shared `mio::Registry`.
pub const TOKEN_TAG: usize = 1 << 63;

fn readiness(ev: &mio::event::Event) -> lws_core::Readiness {
    lws_core::Readiness {
        readable: ev.is_readable(),
        writable: ev.is_writable(),
        hangup: ev.is_read_closed() || ev.is_write_closed(),
        error: ev.is_error(),
    }
}

/// The same watcher operations for the owned and the attached type: both
/// hold `regs` (the registrations) and `deadline` (the timer to honour).
macro_rules! event_lib_via_registry {
    ($ty:ty, $name:literal) => {
        impl EventLib for $ty {
            fn name(&self) -> &'static str {
                $name
            }
            fn edge_triggered(&self) -> bool {
                true
            }
            fn watch(&mut self, fd: i32, token: Token, interest: Interest) -> io::Result<()> {
                self.regs.watch(fd, token, interest)
            }
            fn modify(&mut self, fd: i32, token: Token, interest: Interest) -> io::Result<()> {
                self.regs.modify(fd, token, interest)
            }
            fn unwatch(&mut self, fd: i32, _token: Token) -> io::Result<()> {
                self.regs.unwatch(fd)
            }
            fn set_timer(&mut self, deadline: Option<Instant>) {
                self.deadline = deadline;
            }
        }
    };
}

/// A mio loop owned and run by the library.
#[derive(Debug)]
pub struct MioLoop {
    poll: Poll,
    regs: Registrations,
    events: Events,
    deadline: Option<Instant>,
}

impl MioLoop {
    pub fn new() -> Result<Self, Error> {
        let poll = Poll::new().map_err(|e| Error::Loop {
            lib: "mio",
            source: e,
        })?;
        let registry = poll.registry().try_clone().map_err(|e| Error::Loop {
            lib: "mio",
            source: e,
        })?;
        Ok(MioLoop {
            poll,
            regs: Registrations::new(registry),
            events: Events::with_capacity(256),
            deadline: None,
        })
    }
}

event_lib_via_registry!(MioLoop, "mio");

impl RunLoop for MioLoop {
    fn name(&self) -> &'static str {
        "mio"
    }

    fn run(&mut self, ctx: &mut Context) -> Result<(), Error> {
        ctx.set_edge_triggered(true);
        loop {
            self.sync(ctx);
            if ctx.is_stopped() {
                return Ok(());
            }
            let wait = ctx.poll_wait(self.deadline);
            match self.poll.poll(&mut self.events, wait) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(Error::Loop {
                        lib: "mio",
                        source: e,
                    });
                }
            }
            for ev in self.events.iter() {
                let raw = (ev.token().0 & !TOKEN_TAG) as u64;
                ctx.service_io(Token::from_raw(raw), readiness(ev));
            }
            ctx.after_poll(self.deadline);
        }
    }
}

/// The library attached to a host's `mio::Poll` (foreign mode).
#[derive(Debug)]
pub struct MioAttached {
    regs: Registrations,
    deadline: Option<Instant>,
}

impl MioAttached {
    /// Attach `ctx` to the host's registry. Nothing is polled here.
    pub fn attach(ctx: &mut Context, registry: &mio::Registry) -> Result<Self, Error> {
        let registry = registry.try_clone().map_err(|e| Error::Loop {
            lib: "mio",
            source: e,
        })?;
        ctx.set_edge_triggered(true);
        let mut me = MioAttached {
            regs: Registrations::new(registry),
            deadline: None,
        };
        me.sync(ctx);
        Ok(me)
    }

    /// Whether an event from the host's `Poll` belongs to the library.
    pub fn owns(token: mio::Token) -> bool {
        token.0 & TOKEN_TAG != 0
    }

    /// Deliver one of the library's events (see [`MioAttached::owns`]).
    pub fn handle(&mut self, ctx: &mut Context, ev: &mio::event::Event) {
        let raw = (ev.token().0 & !TOKEN_TAG) as u64;
        ctx.service_io(Token::from_raw(raw), readiness(ev));
    }

    /// The longest the host may block in its next poll for the library's
    /// sake (`None`: no limit).
    pub fn timeout(&self, ctx: &Context) -> Option<Duration> {
        ctx.poll_wait(self.deadline)
    }

    /// Run due timers and forced work, then apply watcher changes. Call
    /// once per host loop turn, after dispatching events.
    pub fn after_poll(&mut self, ctx: &mut Context) {
        ctx.after_poll(self.deadline);
        self.sync(ctx);
    }

    /// Remove every registration the library made. Call after the context
    /// stopped (or to abandon it); the host's `Poll` stays usable.
    pub fn detach(mut self, ctx: &mut Context) -> usize {
        self.sync(ctx);
        self.regs.clear()
    }

    /// How many descriptors the library has registered right now.
    pub fn registered(&self) -> usize {
        self.regs.len()
    }
}

event_lib_via_registry!(MioAttached, "mio-foreign");
