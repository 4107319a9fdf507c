//! Adapter state shared by the uloop callbacks. No uloop calls here.

use std::collections::HashMap;
use std::os::fd::RawFd;

use lws_core::{Context, LoopEvent};

use crate::ffi::{Tmo, Watch};

/// Where observations go: queued for the owned run loop, or served at once
/// on the context held here (foreign mode).
pub(crate) enum Sink {
    Queue(Vec<LoopEvent>),
    Direct(Option<Box<Context>>),
}

pub(crate) struct Shared {
    pub sink: Sink,
    pub ios: HashMap<RawFd, *mut Watch>,
    pub timer: *mut Tmo,
    pub defer: *mut Tmo,
    pub detached: bool,
    pub on_stopped: Option<Box<dyn FnOnce(Context)>>,
}
