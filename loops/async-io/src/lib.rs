//! # lws-loop-async-io: lws as a task on an async-io executor
//!
//! The context runs inside a future, [`serve`], that any executor driving
//! `async-io`'s reactor can poll (`async_io::block_on`, `smol`,
//! `futures::executor` with async-io's driver thread, ...). Registering
//! every connection with async-io's reactor would cost a reactor source and
//! a waker per descriptor and an `epoll_ctl` re-arm per event (its sources
//! are oneshot); instead the native loop runs *embedded*
//! ([`lws_loop_poll::PollLoop::embedded`]): one epoll descriptor, with the
//! scheduler's timer as a timerfd inside it, that is readable whenever a
//! connection, a timer or forced work needs service. The task registers a
//! duplicate of that single descriptor with async-io, awaits readability
//! and runs one non-blocking turn, so it never blocks the executor thread.
//!
//! - **owned**: [`AsyncIoLoop`] runs [`serve_borrowed`] with
//!   `async_io::block_on` until the context stops.
//! - **foreign**: the host spawns [`serve`] on its own executor next to its
//!   own tasks. The future resolves with the context once it has stopped,
//!   after dropping its only reactor registration and closing its
//!   descriptors; it never stops, blocks or replaces the host's executor.
//!   [`Footprint`] lets a host check that nothing of the library is left.
//!
//! No unsafe code: the descriptor handed to async-io is an owned duplicate.
#![forbid(unsafe_code)]

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_io::Async;
use lws_core::{Context, Error, RunLoop};
use lws_loop_poll::PollLoop;

fn loop_err(e: io::Error) -> Error {
    Error::Loop {
        lib: "async-io",
        source: e,
    }
}

/// Counts the reactor registrations and descriptors the library holds for
/// the task(s) it was given to; 0 once every such task has finished.
#[derive(Debug, Clone, Default)]
pub struct Footprint(Arc<AtomicUsize>);

impl Footprint {
    pub fn new() -> Self {
        Self::default()
    }

    /// Live reactor registrations (one per running task).
    pub fn registrations(&self) -> usize {
        self.0.load(Ordering::Acquire)
    }
}

/// Decrements the footprint when the task's registration is dropped.
struct Held(Footprint);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Run `ctx` until it stops, as a task; resolves with the context back.
pub async fn serve(mut ctx: Context) -> Result<Context, Error> {
    serve_with(&mut ctx, &Footprint::new()).await?;
    Ok(ctx)
}

/// Like [`serve`] for a borrowed context.
pub async fn serve_borrowed(ctx: &mut Context) -> Result<(), Error> {
    serve_with(ctx, &Footprint::new()).await
}

/// Like [`serve_borrowed`], counting the task's registration in `fp`.
pub async fn serve_with(ctx: &mut Context, fp: &Footprint) -> Result<(), Error> {
    let mut lws = PollLoop::embedded()?;
    ctx.set_edge_triggered(false);
    lws.turn(ctx, Some(Duration::ZERO))?;
    if ctx.is_stopped() {
        return Ok(());
    }
    // A duplicate of the epoll descriptor: async-io owns and closes it
    // (dropping `Async` deregisters first); the original stays in `lws`.
    let dup: OwnedFd = lws.as_fd().try_clone_to_owned().map_err(loop_err)?;
    let watched = Async::new(dup).map_err(loop_err)?;
    fp.0.fetch_add(1, Ordering::AcqRel);
    let _held = Held(fp.clone());
    while !ctx.is_stopped() {
        watched.readable().await.map_err(loop_err)?;
        lws.turn(ctx, Some(Duration::ZERO))?;
    }
    Ok(())
}

/// async-io's reactor owned and run by the library: `block_on` the task.
#[derive(Debug, Default)]
pub struct AsyncIoLoop;

impl AsyncIoLoop {
    pub fn new() -> Self {
        AsyncIoLoop
    }
}

impl RunLoop for AsyncIoLoop {
    fn name(&self) -> &'static str {
        "async-io"
    }

    fn run(&mut self, ctx: &mut Context) -> Result<(), Error> {
        async_io::block_on(serve_borrowed(ctx))
    }
}
