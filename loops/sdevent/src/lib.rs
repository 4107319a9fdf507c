//! # lws-loop-sdevent: lws on a systemd sd-event loop
//!
//! One edge-triggered `sd_event_source` io source per descriptor (disabled
//! while the core wants nothing, which also removes the fd from sd-event's
//! epoll set; edge-triggered because sd-event calls `epoll_wait` before
//! every single dispatch, and level-triggered readiness would re-report
//! every ready descriptor each time), one monotonic timer source re-armed
//! to the scheduler's next deadline, and a defer source switched on while
//! the core wants forced service. sd-event tolerates unreferencing a source
//! from inside its own callback, so teardown completes in the callback in
//! which the context stopped. Serving, teardown and the owned run are the
//! shared callback-loop glue ([`lws_cglue`]); this crate holds sd-event's
//! watcher operations.
//!
//! - **owned**: [`SdLoop`] creates and runs a private `sd_event`.
//! - **foreign**: [`SdAttached::attach`] adds sources to a host's loop: an
//!   [`SdHostEvent`] (`host()`), or a C host's `sd_event *` given with
//!   [`host_from_raw`]. The host keeps calling `sd_event_run` or
//!   `sd_event_loop`; the library never runs, exits or unreferences it.
//!   Once the context has stopped every source it added is released and
//!   `on_stopped` gets the context back.
//!
//! `unsafe` lives in the `ffi` module only.

mod ffi;

pub use ffi::{HostEvent, SdEventBox, SdHostEvent, SdWatchers, Vouch, host_from_raw};

/// The library attached to a host's sd-event loop (foreign mode).
pub type SdAttached = lws_cglue::Attached<SdWatchers>;

/// An sd-event loop owned and run by the library.
pub type SdLoop = lws_cglue::OwnedLoop<SdWatchers>;
