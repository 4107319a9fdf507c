//! Adapter state shared by the uloop callbacks. No uloop calls here.

use std::collections::HashMap;
use std::os::fd::RawFd;

use lws_core::Context;

use crate::ffi::{Tmo, Watch};

pub(crate) use lws_core::EventSink as Sink;

pub(crate) struct Shared {
    pub sink: Sink,
    pub ios: HashMap<RawFd, *mut Watch>,
    pub timer: *mut Tmo,
    pub defer: *mut Tmo,
    pub detached: bool,
    pub on_stopped: Option<Box<dyn FnOnce(Context)>>,
}
