//! Adapter state shared by the libev callbacks. No libev calls here.

use std::collections::HashMap;
use std::ffi::c_void;
use std::os::fd::RawFd;

use lws_core::Context;

use crate::ffi::{EvLoopRaw, IdleW, Io, TimerW};

pub(crate) use lws_core::EventSink as Sink;

pub(crate) struct Shared {
    pub l: *mut EvLoopRaw,
    pub sink: Sink,
    pub ios: HashMap<RawFd, Io>,
    pub timer: *mut TimerW,
    pub idle: *mut IdleW,
    /// The timer's and idle watcher's callback slots.
    pub fixed_slots: Vec<*mut c_void>,
    pub detached: bool,
    pub on_stopped: Option<Box<dyn FnOnce(Context)>>,
}
