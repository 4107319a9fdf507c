//! # lws-loop-polling: lws on a `polling::Poller`
//!
//! Sources are registered in level-triggered mode where the platform has
//! it (`Poller::supports_level`, true for epoll), so interest maps 1:1 onto
//! the core's commands; otherwise oneshot mode, re-armed after each event.
//!
//! - **owned**: [`PollingLoop`] creates a `Poller` and runs the context.
//! - **foreign**: [`PollingAttached`] adds the context's descriptors to the
//!   host's `Poller` (keys carry bit 63; the host must not use such keys).
//!   The host keeps calling `wait`, hands the library's events to
//!   [`PollingAttached::handle`], bounds its wait by
//!   [`PollingAttached::timeout`] and calls [`PollingAttached::after_poll`]
//!   each turn; [`PollingAttached::detach`] removes every source it added.
//!
//! `unsafe` (registering a raw fd) lives in `ffi.rs` only.

mod ffi;

use std::collections::HashMap;
use std::io;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lws_core::{Context, Error, EventLib, Interest, Readiness, RunLoop, Token};
use polling::{Event, Events, PollMode, Poller};

/// Bit marking the library's keys in a shared `Poller`.
pub const KEY_TAG: usize = 1 << 63;

/// The library's sources in one `Poller`: fd -> (key, interest).
#[derive(Debug)]
struct Sources {
    poller: Arc<Poller>,
    mode: PollMode,
    fds: HashMap<RawFd, (usize, Interest)>,
}

impl Sources {
    fn new(poller: Arc<Poller>) -> Self {
        let mode = if poller.supports_level() {
            PollMode::Level
        } else {
            PollMode::Oneshot
        };
        Sources {
            poller,
            mode,
            fds: HashMap::new(),
        }
    }

    fn event(key: usize, i: Interest) -> Event {
        let mut ev = Event::none(key);
        ev.readable = i.readable;
        ev.writable = i.writable;
        ev
    }

    fn key(token: Token) -> io::Result<usize> {
        let raw = usize::try_from(token.into_raw()).map_err(io::Error::other)?;
        if raw & KEY_TAG != 0 {
            return Err(io::Error::other("token uses the tag bit"));
        }
        Ok(raw | KEY_TAG)
    }

    fn watch(&mut self, fd: RawFd, token: Token, i: Interest) -> io::Result<()> {
        let key = Self::key(token)?;
        ffi::add(&self.poller, fd, Self::event(key, i), self.mode)?;
        self.fds.insert(fd, (key, i));
        Ok(())
    }

    fn modify(&mut self, fd: RawFd, token: Token, i: Interest) -> io::Result<()> {
        let key = Self::key(token)?;
        ffi::modify(&self.poller, fd, Self::event(key, i), self.mode)?;
        self.fds.insert(fd, (key, i));
        Ok(())
    }

    fn unwatch(&mut self, fd: RawFd) -> io::Result<()> {
        match self.fds.remove(&fd) {
            Some(_) => ffi::delete(&self.poller, fd),
            None => Ok(()),
        }
    }

    /// Oneshot mode disarms a source after each event: arm it again.
    fn rearm(&mut self, key: usize) {
        if self.mode != PollMode::Oneshot {
            return;
        }
        if let Some((&fd, &(k, i))) = self.fds.iter().find(|(_, (k, _))| *k == key) {
            let _ = ffi::modify(&self.poller, fd, Self::event(k, i), self.mode);
        }
    }

    fn clear(&mut self) -> usize {
        let n = self.fds.len();
        for (fd, _) in self.fds.drain() {
            let _ = ffi::delete(&self.poller, fd);
        }
        n
    }
}

fn readiness(ev: &Event) -> Readiness {
    Readiness {
        readable: ev.readable,
        writable: ev.writable,
        hangup: false,
        error: false,
    }
}

fn dispatch(ctx: &mut Context, sources: &mut Sources, ev: &Event) {
    ctx.service_io(Token::from_raw((ev.key & !KEY_TAG) as u64), readiness(ev));
    sources.rearm(ev.key);
}

macro_rules! event_lib_via_sources {
    ($ty:ty, $name:literal) => {
        impl EventLib for $ty {
            fn name(&self) -> &'static str {
                $name
            }
            fn watch(&mut self, fd: RawFd, token: Token, interest: Interest) -> io::Result<()> {
                self.sources.watch(fd, token, interest)
            }
            fn modify(&mut self, fd: RawFd, token: Token, interest: Interest) -> io::Result<()> {
                self.sources.modify(fd, token, interest)
            }
            fn unwatch(&mut self, fd: RawFd, _token: Token) -> io::Result<()> {
                self.sources.unwatch(fd)
            }
            fn set_timer(&mut self, deadline: Option<Instant>) {
                self.deadline = deadline;
            }
        }
    };
}

/// A `Poller` owned and run by the library.
#[derive(Debug)]
pub struct PollingLoop {
    sources: Sources,
    events: Events,
    deadline: Option<Instant>,
}

impl PollingLoop {
    pub fn new() -> Result<Self, Error> {
        let poller = Poller::new().map_err(|e| Error::Loop {
            lib: "polling",
            source: e,
        })?;
        Ok(PollingLoop {
            sources: Sources::new(Arc::new(poller)),
            events: Events::new(),
            deadline: None,
        })
    }
}

event_lib_via_sources!(PollingLoop, "polling");

impl RunLoop for PollingLoop {
    fn name(&self) -> &'static str {
        "polling"
    }

    fn run(&mut self, ctx: &mut Context) -> Result<(), Error> {
        ctx.set_edge_triggered(false);
        loop {
            self.sync(ctx);
            if ctx.is_stopped() {
                return Ok(());
            }
            self.events.clear();
            let wait = ctx.poll_wait(self.deadline);
            match self.sources.poller.wait(&mut self.events, wait) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(Error::Loop {
                        lib: "polling",
                        source: e,
                    });
                }
            }
            for ev in self.events.iter() {
                dispatch(ctx, &mut self.sources, &ev);
            }
            ctx.after_poll(self.deadline);
        }
    }
}

/// The library attached to a host's `Poller` (foreign mode).
#[derive(Debug)]
pub struct PollingAttached {
    sources: Sources,
    deadline: Option<Instant>,
}

event_lib_via_sources!(PollingAttached, "polling-foreign");

impl PollingAttached {
    pub fn attach(ctx: &mut Context, poller: Arc<Poller>) -> Self {
        ctx.set_edge_triggered(false);
        let mut me = PollingAttached {
            sources: Sources::new(poller),
            deadline: None,
        };
        me.sync(ctx);
        me
    }

    /// Whether an event from the host's `Poller` belongs to the library.
    pub fn owns(ev: &Event) -> bool {
        ev.key & KEY_TAG != 0
    }

    pub fn handle(&mut self, ctx: &mut Context, ev: &Event) {
        dispatch(ctx, &mut self.sources, ev);
    }

    pub fn timeout(&self, ctx: &Context) -> Option<Duration> {
        ctx.poll_wait(self.deadline)
    }

    pub fn after_poll(&mut self, ctx: &mut Context) {
        ctx.after_poll(self.deadline);
        self.sync(ctx);
    }

    pub fn registered(&self) -> usize {
        self.sources.fds.len()
    }

    /// Remove every source the library added; returns how many.
    pub fn detach(mut self, ctx: &mut Context) -> usize {
        self.sync(ctx);
        self.sources.clear()
    }
}
