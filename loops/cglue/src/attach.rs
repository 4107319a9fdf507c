//! Foreign mode: the library attached to a loop the host runs. The host
//! keeps running its loop; the library never runs, stops or frees it.

use lws_core::{Context, Error};

use crate::adapter::{Adapter, Link};
use crate::{Host, Watchers, loop_err};

/// A context served from a host's loop through `W`'s watchers.
///
/// Dropping it does not detach: the context keeps being served until it
/// stops (every C handle holds the adapter alive); then teardown runs and
/// `on_stopped` gets the context back. It is neither `Send` nor `Sync`:
/// everything runs on the loop's thread.
///
/// ```compile_fail,E0277
/// fn f<W: lws_cglue::Watchers>(lws: lws_cglue::Attached<W>) {
///     std::thread::spawn(move || drop(lws)); // not Send
/// }
/// ```
pub struct Attached<W: Watchers> {
    link: Link<W>,
}

impl<W: Watchers> std::fmt::Debug for Attached<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attached")
            .field("loop", &W::NAME)
            .field("detached", &self.is_detached())
            .finish()
    }
}

impl<W: Watchers> Attached<W> {
    /// Add `ctx`'s watchers to `host`'s loop. `on_stopped` runs, from a
    /// loop callback, once the context has stopped and every source the
    /// library added is released.
    pub fn attach(
        ctx: Context,
        host: Host<'_, W::Owner>,
        on_stopped: impl FnOnce(Context) + 'static,
    ) -> Result<Self, Error> {
        let link = Adapter::<W>::new(host.into_kept(), false).map_err(loop_err::<W>)?;
        if let Some(mut st) = link.state() {
            let mut ctx = ctx;
            ctx.set_edge_triggered(W::EDGE_TRIGGERED);
            st.ctx = Some(Box::new(ctx));
            st.on_stopped = Some(Box::new(on_stopped));
        }
        link.dispatch(|_| ());
        Ok(Attached { link })
    }

    /// Run `f` with the context between loop callbacks (host side); what
    /// it changes is applied to the watchers at once. `None` once the
    /// context was handed back, or when called from inside a library
    /// callback (the context is in use there).
    pub fn with_context<R>(&self, f: impl FnOnce(&mut Context) -> R) -> Option<R> {
        self.link.dispatch(f)
    }

    /// Whether teardown completed (every source released, context handed
    /// back).
    pub fn is_detached(&self) -> bool {
        self.link.is_detached()
    }

    /// Events that arrived while the context was in use and wait to be
    /// served (diagnostics, for re-entrancy tests).
    #[doc(hidden)]
    pub fn queued(&self) -> usize {
        self.link.queued()
    }

    /// Releases not yet completed (diagnostics, for re-entrancy tests).
    #[doc(hidden)]
    pub fn closing(&self) -> usize {
        self.link.closing()
    }
}
