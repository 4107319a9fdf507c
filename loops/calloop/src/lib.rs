//! # lws-loop-calloop: lws as a calloop `EventSource`
//!
//! calloop mints a token for each descriptor when a source (re)registers,
//! so a source whose descriptor set changes with every accept would have to
//! re-register all of them each time. Instead the context's descriptors live
//! in the native loop's epoll set in *embedded* mode
//! ([`lws_loop_poll::PollLoop::embedded`]): one descriptor, readable
//! whenever a connection or a timer needs service. [`LwsSource`] registers
//! that single descriptor (level-triggered) and runs one non-blocking turn
//! per readiness, the way calloop nests sub-loops.
//!
//! - **foreign**: insert [`LwsSource::new`] into the host's `EventLoop`
//!   with `LoopHandle::insert_source`. When the context has stopped, the
//!   callback receives [`LwsEvent::Stopped`] with the context back and the
//!   source removes itself; the host loop keeps running untouched. Talk to
//!   a running context through its [`lws_core::Remote`].
//! - **owned**: [`CalloopLoop`] runs a private `EventLoop` until the context
//!   stops.
//!
//! `unsafe` (registering a borrowed descriptor with calloop) is in `ffi.rs`.

mod ffi;

/// The calloop crate this adapter is built against (hosts use the same one).
pub use calloop;

use std::time::Duration;

use calloop::{
    EventLoop, EventSource, Interest, Mode, Poll, PostAction, Readiness, Token, TokenFactory,
};
use lws_core::{Context, Error, RunLoop};
use lws_loop_poll::PollLoop;

/// What an [`LwsSource`] reports to its calloop callback.
#[derive(Debug)]
#[non_exhaustive]
pub enum LwsEvent {
    /// The context stopped; the source is being removed. Carries the
    /// context back when the source owned it.
    Stopped(Option<Box<Context>>),
}

enum Holder<'c> {
    Owned(Option<Box<Context>>),
    Borrowed(&'c mut Context),
}

/// The context as a calloop event source.
pub struct LwsSource<'c> {
    lws: PollLoop,
    ctx: Holder<'c>,
    token: Option<Token>,
}

impl std::fmt::Debug for LwsSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LwsSource")
            .field("lws", &self.lws)
            .field("token", &self.token)
            .finish()
    }
}

impl LwsSource<'static> {
    /// A source owning `ctx`, for the host's `EventLoop`.
    pub fn new(ctx: Context) -> Result<Self, Error> {
        Self::with(Holder::Owned(Some(Box::new(ctx))))
    }
}

impl<'c> LwsSource<'c> {
    /// A source borrowing `ctx` (for a loop that does not outlive it).
    pub fn borrowing(ctx: &'c mut Context) -> Result<Self, Error> {
        Self::with(Holder::Borrowed(ctx))
    }

    fn with(mut ctx: Holder<'c>) -> Result<Self, Error> {
        let mut lws = PollLoop::embedded()?;
        if let Some(c) = Self::ctx_of(&mut ctx) {
            c.set_edge_triggered(false);
            lws.turn(c, Some(Duration::ZERO))?;
        }
        Ok(LwsSource {
            lws,
            ctx,
            token: None,
        })
    }

    fn ctx_of<'a>(h: &'a mut Holder<'c>) -> Option<&'a mut Context> {
        match h {
            Holder::Owned(c) => c.as_deref_mut(),
            Holder::Borrowed(c) => Some(&mut **c),
        }
    }
}

impl EventSource for LwsSource<'_> {
    type Event = LwsEvent;
    type Metadata = ();
    type Ret = ();
    type Error = Error;

    fn process_events<F>(
        &mut self,
        _: Readiness,
        token: Token,
        mut callback: F,
    ) -> Result<PostAction, Error>
    where
        F: FnMut(LwsEvent, &mut ()),
    {
        if self.token != Some(token) {
            return Ok(PostAction::Continue);
        }
        let Some(ctx) = Self::ctx_of(&mut self.ctx) else {
            return Ok(PostAction::Remove);
        };
        self.lws.turn(ctx, Some(Duration::ZERO))?;
        if !ctx.is_stopped() {
            return Ok(PostAction::Continue);
        }
        let back = match &mut self.ctx {
            Holder::Owned(c) => c.take(),
            Holder::Borrowed(_) => None,
        };
        callback(LwsEvent::Stopped(back), &mut ());
        Ok(PostAction::Remove)
    }

    fn register(&mut self, poll: &mut Poll, tf: &mut TokenFactory) -> calloop::Result<()> {
        let token = tf.token();
        ffi::register(poll, &self.lws, token)?;
        self.token = Some(token);
        Ok(())
    }

    fn reregister(&mut self, poll: &mut Poll, tf: &mut TokenFactory) -> calloop::Result<()> {
        let token = tf.token();
        poll.reregister(&self.lws, Interest::READ, Mode::Level, token)?;
        self.token = Some(token);
        Ok(())
    }

    fn unregister(&mut self, poll: &mut Poll) -> calloop::Result<()> {
        self.token = None;
        poll.unregister(&self.lws)
    }
}

/// A calloop `EventLoop` owned and run by the library.
#[derive(Debug, Default)]
pub struct CalloopLoop;

impl CalloopLoop {
    pub fn new() -> Self {
        CalloopLoop
    }
}

impl RunLoop for CalloopLoop {
    fn name(&self) -> &'static str {
        "calloop"
    }

    fn run(&mut self, ctx: &mut Context) -> Result<(), Error> {
        let loop_err = |e: calloop::Error| Error::Loop {
            lib: "calloop",
            source: std::io::Error::other(e),
        };
        let mut event_loop: EventLoop<'_, bool> = EventLoop::try_new().map_err(loop_err)?;
        let source = LwsSource::borrowing(ctx)?;
        event_loop
            .handle()
            .insert_source(source, |LwsEvent::Stopped(_), _, stopped: &mut bool| {
                *stopped = true
            })
            .map_err(|e| loop_err(e.error))?;
        let mut stopped = false;
        while !stopped {
            event_loop.dispatch(None, &mut stopped).map_err(loop_err)?;
        }
        Ok(())
    }
}
