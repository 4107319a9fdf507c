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
//!   replace them). An owned loop needs uloop to itself: while another
//!   one or a host uses it, `UloopLoop::new` fails with
//!   [`lws_core::Error::Loop`].
//! - **foreign**: [`UloopAttached::attach`] adds the context's watchers to
//!   uloop held by a Rust host ([`UloopHost::init`], `host()`) or run by a
//!   C host ([`host_from_raw`]). The library never runs or ends
//!   uloop; a `UloopHost`'s `uloop_done` waits until the attachments on it
//!   are gone. When the context has stopped every fd and timeout it added
//!   is removed and `on_stopped` gets the context back.
//!
//! `unsafe` lives in the `ffi` module only.

mod ffi;

pub use ffi::{HostTimer, HostUloop, UloopHost, UloopInit, UloopWatchers, Vouch, host_from_raw};

/// The library attached to the process's uloop (foreign mode).
pub type UloopAttached = lws_cglue::Attached<UloopWatchers>;

/// uloop owned and run by the library: `new` claims uloop for it alone
/// (an error while another one or a host uses it); dropping it lets go.
pub type UloopLoop = lws_cglue::OwnedLoop<UloopWatchers>;
