//! The library's GLib sources on one `MainContext`: a unix-fd source per
//! descriptor (re-created when its interest changes, since a fd source's
//! condition is fixed), one timeout source for the next deadline, and an
//! idle source while forced service is pending.

use std::collections::HashMap;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::time::{Duration, Instant};

use glib::thread_guard::ThreadGuard;
use glib::{ControlFlow, IOCondition, MainContext, Priority, Source};
use lws_core::{Context, EventLib, Interest, Readiness, Token};

/// Something a source observed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fired {
    Io(Token, Readiness),
    Timer,
    Forced,
}

/// Where sources send what they observed (owned: a queue; foreign: the
/// context directly).
pub(crate) type Sink = Rc<dyn Fn(Fired)>;

/// Hand one observation to the context.
pub(crate) fn deliver(ctx: &mut Context, f: Fired) {
    match f {
        Fired::Io(t, r) => ctx.service_io(t, r),
        Fired::Timer => ctx.service_timers(Instant::now()),
        Fired::Forced => ctx.service_forced(),
    }
}

/// The sources the library added to one `MainContext`.
pub struct Watchers {
    main: MainContext,
    sink: Sink,
    fds: HashMap<RawFd, Source>,
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
        // The idle source stays while forced work is wanted (it may be the
        // very source dispatching now) and goes as soon as it is not.
        if ctx.wants_forced_service() && self.idle.is_none() {
            let sink = ThreadGuard::new(self.sink.clone());
            let src = glib::idle_source_new(Some("lws-forced"), Priority::DEFAULT, move || {
                (sink.get_ref())(Fired::Forced);
                ControlFlow::Continue
            });
            src.attach(Some(&self.main));
            self.idle = Some(src);
        } else if !ctx.wants_forced_service()
            && let Some(idle) = self.idle.take()
        {
            idle.destroy();
        }
    }

    /// Destroy every source.
    pub(crate) fn clear(&mut self) {
        for (_, s) in self.fds.drain() {
            s.destroy();
        }
        for s in [self.timer.take(), self.idle.take()].into_iter().flatten() {
            s.destroy();
        }
    }

    fn fd_source(&self, fd: RawFd, token: Token, interest: Interest) -> Source {
        let sink = ThreadGuard::new(self.sink.clone());
        let src = glib_unix::fd_source_new(
            fd,
            condition(interest),
            Some("lws-fd"),
            Priority::DEFAULT,
            move |_, c| {
                (sink.get_ref())(Fired::Io(token, readiness(c)));
                ControlFlow::Continue
            },
        );
        src.attach(Some(&self.main));
        src
    }
}

impl EventLib for Watchers {
    fn name(&self) -> &'static str {
        "glib"
    }

    fn watch(&mut self, fd: RawFd, token: Token, interest: Interest) -> std::io::Result<()> {
        let src = self.fd_source(fd, token, interest);
        if let Some(old) = self.fds.insert(fd, src) {
            old.destroy();
        }
        Ok(())
    }

    fn modify(&mut self, fd: RawFd, token: Token, interest: Interest) -> std::io::Result<()> {
        self.watch(fd, token, interest)
    }

    fn unwatch(&mut self, fd: RawFd, _: Token) -> std::io::Result<()> {
        if let Some(s) = self.fds.remove(&fd) {
            s.destroy();
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
        let src = glib::timeout_source_new(ms, Some("lws-timer"), Priority::DEFAULT, move || {
            (sink.get_ref())(Fired::Timer);
            ControlFlow::Break
        });
        src.attach(Some(&self.main));
        self.timer = Some(src);
    }
}
