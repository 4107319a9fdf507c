//! Adapter state shared by the libevent callbacks. No libevent calls here.

use std::collections::HashMap;
use std::os::fd::RawFd;

use lws_core::Context;

pub(crate) use lws_core::EventSink as Sink;

pub(crate) struct Shared {
    pub base: *mut libevent_sys::event_base,
    pub sink: Sink,
    pub events: HashMap<RawFd, *mut crate::ffi::Slot>,
    pub timer: *mut crate::ffi::Slot,
    pub forced: *mut crate::ffi::Slot,
    /// Events handed to `event_free_finalize` whose finalizer has not run.
    pub finalizing: usize,
    /// Teardown started (every event released).
    pub released: bool,
    /// Teardown complete (every finalizer ran).
    pub detached: bool,
    pub on_stopped: Option<Box<dyn FnOnce(Context)>>,
}
