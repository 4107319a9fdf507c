//! Adapter state shared by the libuv callbacks: the context (foreign mode)
//! or a queue of what fired (owned mode), and the handles the library owns
//! on the loop. Holds no libuv calls itself.

use std::collections::HashMap;
use std::os::fd::RawFd;

use lws_core::Context;

pub(crate) use lws_core::EventSink as Sink;

pub(crate) struct Shared {
    pub lp: *mut libuv_sys2::uv_loop_t,
    pub sink: Sink,
    /// fd -> its poll handle (raw, owned by libuv until its close callback).
    pub polls: HashMap<RawFd, *mut crate::ffi::PollHandle>,
    pub timer: *mut crate::ffi::TimerHandle,
    pub idle: *mut crate::ffi::IdleHandle,
    pub idle_on: bool,
    /// Handles closed whose close callback has not run yet.
    pub closing: usize,
    /// All handles are gone (teardown complete).
    pub detached: bool,
    pub on_stopped: Option<Box<dyn FnOnce(Context)>>,
}
