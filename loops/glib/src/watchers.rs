//! The library's GLib sources on one `MainContext`: a unix-fd source per
//! descriptor (re-created when its interest changes, since a fd source's
//! condition is fixed), one timeout source for the next deadline, and an
//! idle source while forced service is pending. Sources only report what
//! they observe to a [`Sink`]; they never touch the context themselves.
//!
//! A sink that cannot take an observation now (the host re-entered its
//! main context while the context is busy) keeps it for later: the source
//! then removes itself, so a nested loop does not spin on a descriptor that
//! stays ready, and [`Watchers::revive`] re-creates it once the kept
//! observations have been served.

use std::collections::HashMap;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::time::{Duration, Instant};

use glib::thread_guard::ThreadGuard;
use glib::{ControlFlow, IOCondition, MainContext, Priority, Source};
use lws_core::{Context, EventLib, Interest, LoopEvent, Readiness, Token};

/// What a sink did with an observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Taken {
    /// Served or queued for the run loop: the source carries on.
    Now,
    /// Kept until the busy context is free: the source removes itself
    /// until [`Watchers::revive`].
    Later,
}

/// Where sources send what they observed (owned: a queue; foreign: the
/// context directly, or kept for later while it is busy).
pub(crate) type Sink = Rc<dyn Fn(LoopEvent) -> Taken>;

/// One descriptor's source and what it was created for.
struct FdSource {
    src: Source,
    token: Token,
    interest: Interest,
}

/// The sources the library added to one `MainContext`. Dropping it
/// destroys them.
pub struct Watchers {
    main: MainContext,
    sink: Sink,
    fds: HashMap<RawFd, FdSource>,
    timer: Option<Source>,
    idle: Option<Source>,
}

impl std::fmt::Debug for Watchers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watchers")
            .field("fds", &self.fds.len())
            .field("timer", &self.timer.is_some())
            .finish()
    }
}

fn condition(i: Interest) -> IOCondition {
    let mut c = IOCondition::HUP | IOCondition::ERR;
    if i.readable {
        c |= IOCondition::IN;
    }
    if i.writable {
        c |= IOCondition::OUT;
    }
    c
}

fn readiness(c: IOCondition) -> Readiness {
    Readiness {
        readable: c.contains(IOCondition::IN),
        writable: c.contains(IOCondition::OUT),
        hangup: c.contains(IOCondition::HUP),
        error: c.intersects(IOCondition::ERR | IOCondition::NVAL),
    }
}

impl Watchers {
    pub(crate) fn new(main: MainContext, sink: Sink) -> Self {
        Watchers {
            main,
            sink,
            fds: HashMap::new(),
            timer: None,
            idle: None,
        }
    }

    /// Sources currently attached (descriptors, timer, idle).
    pub fn len(&self) -> usize {
        self.fds.len() + usize::from(self.timer.is_some()) + usize::from(self.idle.is_some())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// After the context ran: apply its commands, arrange forced service.
    pub(crate) fn after_dispatch(&mut self, ctx: &mut Context) {
        self.sync(ctx);
        // An idle source that left while its observation was kept for
        // later is gone: arm a new one if still wanted.
        if self.idle.as_ref().is_some_and(Source::is_destroyed) {
            self.idle = None;
        }
        // The idle source stays while forced work is wanted (it may be the
        // very source dispatching now) and goes as soon as it is not.
        if ctx.wants_forced_service() && self.idle.is_none() {
            let sink = ThreadGuard::new(self.sink.clone());
            let src = glib::idle_source_new(Some("lws-forced"), Priority::DEFAULT, move || {
                flow((sink.get_ref())(LoopEvent::Forced))
            });
            src.attach(Some(&self.main));
            self.idle = Some(src);
        } else if !ctx.wants_forced_service()
            && let Some(idle) = self.idle.take()
        {
            idle.destroy();
        }
    }

    /// Re-create the descriptor sources that removed themselves while
    /// their observation was kept for later (see [`Taken::Later`]).
    pub(crate) fn revive(&mut self) {
        let gone: Vec<(RawFd, Token, Interest)> = self
            .fds
            .iter()
            .filter(|(_, s)| s.src.is_destroyed())
            .map(|(fd, s)| (*fd, s.token, s.interest))
            .collect();
        for (fd, token, interest) in gone {
            let src = self.fd_source(fd, token, interest);
            self.fds.insert(fd, src);
        }
    }

    /// Destroy every source.
    pub(crate) fn clear(&mut self) {
        for (_, s) in self.fds.drain() {
            s.src.destroy();
        }
        for s in [self.timer.take(), self.idle.take()].into_iter().flatten() {
            s.destroy();
        }
    }

    fn fd_source(&self, fd: RawFd, token: Token, interest: Interest) -> FdSource {
        let sink = ThreadGuard::new(self.sink.clone());
        let src = glib_unix::fd_source_new(
            fd,
            condition(interest),
            Some("lws-fd"),
            Priority::DEFAULT,
            move |_, c| flow((sink.get_ref())(LoopEvent::Io(token, readiness(c)))),
        );
        src.attach(Some(&self.main));
        FdSource {
            src,
            token,
            interest,
        }
    }
}

/// A repeating source carries on unless its observation was kept for
/// later; then it removes itself until revived.
fn flow(taken: Taken) -> ControlFlow {
    match taken {
        Taken::Now => ControlFlow::Continue,
        Taken::Later => ControlFlow::Break,
    }
}

impl Drop for Watchers {
    fn drop(&mut self) {
        self.clear();
    }
}

impl EventLib for Watchers {
    fn name(&self) -> &'static str {
        "glib"
    }

    fn watch(&mut self, fd: RawFd, token: Token, interest: Interest) -> std::io::Result<()> {
        let src = self.fd_source(fd, token, interest);
        if let Some(old) = self.fds.insert(fd, src) {
            old.src.destroy();
        }
        Ok(())
    }

    fn modify(&mut self, fd: RawFd, token: Token, interest: Interest) -> std::io::Result<()> {
        self.watch(fd, token, interest)
    }

    fn unwatch(&mut self, fd: RawFd, _: Token) -> std::io::Result<()> {
        if let Some(s) = self.fds.remove(&fd) {
            s.src.destroy();
        }
        Ok(())
    }

    fn set_timer(&mut self, deadline: Option<Instant>) {
        if let Some(old) = self.timer.take() {
            old.destroy();
        }
        let Some(at) = deadline else { return };
        // GLib timeouts have millisecond granularity: round up, never early.
        let wait = at.saturating_duration_since(Instant::now());
        let ms = Duration::from_millis(wait.as_micros().div_ceil(1000) as u64);
        let sink = ThreadGuard::new(self.sink.clone());
        // One-shot: served now or kept for later, it has fired.
        let src = glib::timeout_source_new(ms, Some("lws-timer"), Priority::DEFAULT, move || {
            (sink.get_ref())(LoopEvent::Timer);
            ControlFlow::Break
        });
        src.attach(Some(&self.main));
        self.timer = Some(src);
    }
}
