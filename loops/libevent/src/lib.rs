//! # lws-loop-libevent: lws on a libevent `event_base`
//!
//! One persistent `event` per descriptor (re-assigned when its interest
//! changes), one timer event re-armed to the scheduler's next deadline,
//! and an event activated while forced service is pending. Events are
//! released with `event_free_finalize`, so teardown (which may start inside
//! one of their callbacks) completes in the last finalizer, which reports
//! it. Serving, teardown and the owned run are the shared callback-loop
//! glue ([`lws_cglue`]); this crate holds libevent's watcher operations.
//!
//! - **owned**: [`EvLoop`] creates and runs a private `event_base`.
//! - **foreign**: [`EvAttached::attach`] adds events to a host's base: an
//!   [`EvHostBase`] (`host()`), or a C host's `event_base *` given with
//!   [`host_from_raw`]. The host keeps dispatching it; the library
//!   never dispatches, breaks or frees that base. When the context has
//!   stopped and every event it added is finalized, `on_stopped` receives
//!   the context back.
//!
//! `unsafe` lives in the `ffi` module only.

mod ffi;

pub use ffi::{EvBaseBox, EvHostBase, EvWatchers, HostBase, Vouch, host_from_raw};

/// The library attached to a host's `event_base` (foreign mode).
pub type EvAttached = lws_cglue::Attached<EvWatchers>;

/// A libevent base owned and run by the library.
pub type EvLoop = lws_cglue::OwnedLoop<EvWatchers>;
