//! Declarations of the C shim (`shim/lws_ev.c`): libev's watchers are
//! macro-defined structs, so the shim allocates them and routes every
//! callback to one function with the watcher's opaque `data`.

use std::ffi::{c_double, c_int, c_void};

#[repr(C)]
#[derive(Debug)]
pub struct EvLoopRaw {
    _private: [u8; 0],
}
/// Any of the shim's watchers (`lws_io`, `lws_timer`, `lws_idle`): each
/// function below takes the kind its name says.
#[repr(C)]
#[derive(Debug)]
pub struct Watcher {
    _private: [u8; 0],
}

pub type Cb = unsafe extern "C" fn(data: *mut c_void, revents: c_int);

unsafe extern "C" {
    pub fn lws_ev_read() -> c_int;
    pub fn lws_ev_write() -> c_int;
    pub fn lws_ev_error() -> c_int;
    pub fn lws_ev_loop_new() -> *mut EvLoopRaw;
    pub fn lws_ev_loop_destroy(l: *mut EvLoopRaw);
    pub fn lws_ev_run_once(l: *mut EvLoopRaw);
    pub fn lws_ev_now_update(l: *mut EvLoopRaw);
    pub fn lws_ev_io_new(fd: c_int, cb: Cb, data: *mut c_void) -> *mut Watcher;
    pub fn lws_ev_io_set(l: *mut EvLoopRaw, w: *mut Watcher, events: c_int);
    pub fn lws_ev_io_free(l: *mut EvLoopRaw, w: *mut Watcher);
    pub fn lws_ev_timer_new(cb: Cb, data: *mut c_void) -> *mut Watcher;
    pub fn lws_ev_timer_set(l: *mut EvLoopRaw, w: *mut Watcher, after: c_double);
    pub fn lws_ev_timer_free(l: *mut EvLoopRaw, w: *mut Watcher);
    pub fn lws_ev_timer_repeat(
        l: *mut EvLoopRaw,
        every: c_double,
        cb: Cb,
        data: *mut c_void,
    ) -> *mut Watcher;
    pub fn lws_ev_timer_repeat_free(l: *mut EvLoopRaw, w: *mut Watcher);
    pub fn lws_ev_idle_new(cb: Cb, data: *mut c_void) -> *mut Watcher;
    pub fn lws_ev_idle_set(l: *mut EvLoopRaw, w: *mut Watcher, on: c_int);
    pub fn lws_ev_idle_free(l: *mut EvLoopRaw, w: *mut Watcher);
    pub fn lws_ev_run_nowait(l: *mut EvLoopRaw) -> c_int;
}
