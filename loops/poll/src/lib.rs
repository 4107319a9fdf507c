//! # lws-loop-poll: the native event loop
//!
//! The default loop: no system library, nothing but the kernel's readiness
//! API. On Linux that is epoll, used level-triggered.
//!
//! Why epoll directly rather than the `polling` crate (which also has its
//! own adapter under `loops/polling`): `polling` arms every source in
//! oneshot mode, which costs one extra `epoll_ctl` per event to re-arm. The
//! core already tells us exactly when interest changes (`IoCmd::Modify`),
//! so a level-triggered registration maps 1:1 onto its commands and the hot
//! path (read, echo, read) makes no `epoll_ctl` call at all. The token is
//! stored as the epoll user data, so no lookup table is needed. Timeouts use
//! `epoll_pwait2` (nanosecond resolution) where the kernel has it.
//!
//! Modes: **owned** ([`PollLoop::run`] drives the context until it stops)
//! and **embedded** ([`PollLoop::embedded`]): the loop's timer is a timerfd
//! inside the epoll set, so the single epoll descriptor ([`AsFd`]) becomes
//! readable whenever anything (I/O or a timer) is due. A host loop watches
//! that one descriptor and calls [`PollLoop::turn`] with a zero wait when it
//! is readable; this is how loops that mint their own per-source tokens
//! (calloop) nest the library.
//!
//! This crate must not keep any per-connection state: the core owns it.

mod ffi;
mod timerfd;

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use lws_core::{Context, Error, EventLib, Interest, Readiness, RunLoop, Token};
use rustix::event::epoll;

/// Events fetched per `epoll_wait`.
const EVENTS_PER_WAIT: usize = 256;

/// The native epoll loop.
pub struct PollLoop {
    epoll: OwnedFd,
    events: Vec<epoll::Event>,
    deadline: Option<Instant>,
    /// Embedded mode: the timer as a descriptor in the epoll set.
    timerfd: Option<OwnedFd>,
}

/// Epoll user data of the embedded timerfd; never a connection token
/// (slot index 2^32-1 is never allocated).
const TIMER_DATA: u64 = u64::MAX;

impl PollLoop {
    pub fn new() -> Result<Self, Error> {
        let epoll = epoll::create(epoll::CreateFlags::CLOEXEC).map_err(|e| Error::Loop {
            lib: "poll",
            source: e.into(),
        })?;
        Ok(PollLoop {
            epoll,
            events: Vec::with_capacity(EVENTS_PER_WAIT),
            deadline: None,
            timerfd: None,
        })
    }

    /// A loop whose timer is a timerfd in the epoll set, so its descriptor
    /// alone tells a host loop when [`PollLoop::turn`] has work.
    pub fn embedded() -> Result<Self, Error> {
        let mut me = Self::new()?;
        let tfd = timerfd::create().map_err(|e| Error::Loop {
            lib: "poll",
            source: e,
        })?;
        timerfd::add_to(&me.epoll, &tfd, TIMER_DATA).map_err(|e| Error::Loop {
            lib: "poll",
            source: e,
        })?;
        me.timerfd = Some(tfd);
        Ok(me)
    }

    /// One iteration: apply queued commands, wait at most `max_wait` (or
    /// until the next timer), dispatch what is ready, run due timers.
    pub fn turn(&mut self, ctx: &mut Context, max_wait: Option<Duration>) -> Result<(), Error> {
        self.sync(ctx);
        if ctx.is_stopped() {
            return Ok(());
        }
        let wait = self.wait_time(ctx, max_wait);
        self.events.clear();
        match ffi::wait(&self.epoll, &mut self.events, wait) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(Error::Loop {
                    lib: "poll",
                    source: e,
                });
            }
        }
        for ev in &self.events {
            let (flags, data) = (ev.flags, ev.data.u64());
            if data == TIMER_DATA {
                if let Some(t) = &self.timerfd {
                    timerfd::clear(t);
                }
                continue;
            }
            ctx.service_io(Token::from_raw(data), readiness(flags));
        }
        if self.deadline.is_some_and(|d| d <= Instant::now()) {
            ctx.service_timers(Instant::now());
        }
        if ctx.wants_forced_service() {
            ctx.service_forced();
        }
        self.sync(ctx);
        if let Some(t) = &self.timerfd
            && ctx.wants_forced_service()
        {
            // Embedded: the host only sees our descriptor, so make it
            // readable again at once for the work still pending.
            let _ = timerfd::arm(t, Some(Duration::ZERO));
        }
        Ok(())
    }

    fn wait_time(&self, ctx: &Context, max_wait: Option<Duration>) -> Option<Duration> {
        if ctx.wants_forced_service() {
            return Some(Duration::ZERO);
        }
        let timer = self
            .deadline
            .map(|d| d.saturating_duration_since(Instant::now()));
        match (timer, max_wait) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

impl std::fmt::Debug for PollLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PollLoop")
            .field("epoll", &self.epoll)
            .field("deadline", &self.deadline)
            .finish()
    }
}

impl AsFd for PollLoop {
    /// The epoll descriptor: readable when [`PollLoop::turn`] has work.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.epoll.as_fd()
    }
}

fn flags_for(interest: Interest) -> epoll::EventFlags {
    let mut f = epoll::EventFlags::empty();
    if interest.readable {
        f |= epoll::EventFlags::IN | epoll::EventFlags::RDHUP;
    }
    if interest.writable {
        f |= epoll::EventFlags::OUT;
    }
    f
}

fn readiness(f: epoll::EventFlags) -> Readiness {
    use epoll::EventFlags as F;
    Readiness {
        readable: f.contains(F::IN),
        writable: f.contains(F::OUT),
        hangup: f.intersects(F::HUP | F::RDHUP),
        error: f.contains(F::ERR),
    }
}

impl EventLib for PollLoop {
    fn name(&self) -> &'static str {
        "poll"
    }

    fn watch(&mut self, fd: RawFd, token: Token, interest: Interest) -> io::Result<()> {
        ffi::add(&self.epoll, fd, token.into_raw(), flags_for(interest))
    }

    fn modify(&mut self, fd: RawFd, token: Token, interest: Interest) -> io::Result<()> {
        ffi::modify(&self.epoll, fd, token.into_raw(), flags_for(interest))
    }

    fn unwatch(&mut self, fd: RawFd, _token: Token) -> io::Result<()> {
        ffi::delete(&self.epoll, fd)
    }

    fn set_timer(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
        if let Some(t) = &self.timerfd {
            let after = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if let Err(e) = timerfd::arm(t, after) {
                log::error!("poll: cannot arm timerfd: {e}");
            }
        }
    }
}

impl RunLoop for PollLoop {
    fn name(&self) -> &'static str {
        "poll"
    }

    fn run(&mut self, ctx: &mut Context) -> Result<(), Error> {
        ctx.set_edge_triggered(false);
        while !ctx.is_stopped() {
            self.turn(ctx, None)?;
        }
        self.sync(ctx);
        Ok(())
    }
}
