//! Owned mode: the library runs a private loop until the context stops.
//! Callbacks only queue; the run serves the queue between iterations.

use lws_core::{Context, Error};

use crate::adapter::Adapter;
use crate::{Kept, LoopOwner, Owner, Watchers, loop_err};

/// Run `ctx` on the loop `lp` until it stops. `run_once` runs one
/// iteration of that loop (blocking until something fired); it also runs
/// the loop after teardown until every release completed.
pub fn run_owned<W: Watchers>(
    lp: Kept<W::Owner>,
    ctx: &mut Context,
    mut run_once: impl FnMut() -> Result<(), Error>,
) -> Result<(), Error> {
    let link = Adapter::<W>::new(lp, true).map_err(loop_err::<W>)?;
    ctx.set_edge_triggered(W::EDGE_TRIGGERED);
    link.sync_owned(ctx);
    while !ctx.is_stopped() {
        run_once()?;
        while let Some(ev) = link.next_owned() {
            ctx.handle_event(ev);
        }
        link.sync_owned(ctx);
    }
    link.teardown_now();
    while !link.is_detached() {
        run_once()?;
    }
    Ok(())
}

/// A loop of `W`'s kind owned and run by the library.
pub struct OwnedLoop<W: Watchers> {
    owner: Owner<W::Owner>,
}

impl<W: Watchers> std::fmt::Debug for OwnedLoop<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OwnedLoop({})", W::NAME)
    }
}

impl<W: Watchers> OwnedLoop<W> {
    /// A new private loop.
    pub fn new() -> Result<Self, Error> {
        Ok(OwnedLoop {
            owner: Owner::create()?,
        })
    }
}

impl<W: Watchers> lws_core::RunLoop for OwnedLoop<W> {
    fn name(&self) -> &'static str {
        W::NAME
    }

    fn run(&mut self, ctx: &mut Context) -> Result<(), Error> {
        let owner = &self.owner;
        run_owned::<W>(owner.host().into_kept(), ctx, || owner.iterate())
    }
}
