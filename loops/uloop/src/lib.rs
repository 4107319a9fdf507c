//! # lws-loop-uloop: lws on OpenWrt's uloop (libubox)
//!
//! uloop is process-global: one epoll set, one timeout list, one thread.
//! The adapter adds one `uloop_fd` per descriptor (level-triggered, with
//! `ULOOP_ERROR_CB` so uloop never deletes a descriptor behind the core's
//! back), one `uloop_timeout` re-armed to the scheduler's next deadline
//! (millisecond resolution, rounded up) and a zero-delay timeout while the
//! core wants forced service. Teardown completes in the callback in which
//! the context stopped. Serving, teardown and the owned run are the shared
//! callback-loop glue ([`lws_cglue`]); this crate holds uloop's watcher
//! operations.
//!
//! - **owned**: [`UloopLoop`] runs `uloop_init`, iterates with
//!   `uloop_run_timeout` until the context stops, then `uloop_done`. It
//!   keeps the process's SIGINT/SIGTERM/SIGCHLD handlers (uloop would
//!   replace them). An owned run needs uloop to itself: while another run
//!   or a host uses it, it gets [`Error::Loop`] at once.
//! - **foreign**: [`UloopAttached::attach`] adds the context's watchers to
//!   uloop held by a Rust host ([`UloopHost::init`], `host()`) or run by a
//!   C host ([`HostUloop::from_raw`]). The library never runs or ends
//!   uloop; a `UloopHost`'s `uloop_done` waits until the attachments on it
//!   are gone. When the context has stopped every fd and timeout it added
//!   is removed and `on_stopped` gets the context back.
//!
//! `unsafe` lives in the `ffi` module only.

mod ffi;

use lws_core::{Context, Error, RunLoop};

pub use ffi::{HostTimer, HostUloop, UloopHost, UloopWatchers};

/// The library attached to the process's uloop (foreign mode).
pub type UloopAttached = lws_cglue::Attached<UloopWatchers>;

/// Longest single wait of the owned loop; it re-checks for teardown after
/// each iteration anyway.
const OWNED_WAIT_MS: i32 = 1000;

/// uloop owned and run by the library.
#[derive(Debug, Default)]
pub struct UloopLoop;

impl UloopLoop {
    pub fn new() -> Self {
        UloopLoop
    }
}

impl RunLoop for UloopLoop {
    fn name(&self) -> &'static str {
        "uloop"
    }

    fn run(&mut self, ctx: &mut Context) -> Result<(), Error> {
        let owned = ffi::owned::init().map_err(|e| Error::Loop {
            lib: "uloop",
            source: e,
        })?;
        let w = <UloopWatchers as lws_cglue::Watchers>::new(owned.host());
        lws_cglue::run_owned(w, ctx, || {
            owned.run_once(OWNED_WAIT_MS);
            Ok(())
        })
    }
}
