//! Adapter state shared by the sd-event callbacks. No sd-event calls here.

use std::collections::HashMap;
use std::os::fd::RawFd;

use libsystemd_sys::event::{sd_event, sd_event_source};
use lws_core::Context;

pub(crate) use lws_core::EventSink as Sink;

/// An event source and its callback slot.
pub(crate) struct Source {
    pub src: *mut sd_event_source,
    pub slot: *mut crate::ffi::Slot,
}

pub(crate) struct Shared {
    pub e: *mut sd_event,
    pub sink: Sink,
    pub ios: HashMap<RawFd, Source>,
    pub timer: Option<Source>,
    pub defer: Option<Source>,
    pub detached: bool,
    pub on_stopped: Option<Box<dyn FnOnce(Context)>>,
}
