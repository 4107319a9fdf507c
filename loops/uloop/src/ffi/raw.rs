//! libubox-sys binds uloop's functions but leaves `struct uloop_fd` and
//! `struct uloop_timeout` opaque, so their layout (stable since 2013) is
//! declared here from `uloop.h`.

use std::ffi::{c_int, c_uint};

unsafe extern "C" {
    /// uloop's "leave `uloop_run_timeout` now" flag (`uloop_end()` is an
    /// inline function setting it; `uloop_run_timeout` clears it on entry).
    pub static mut uloop_cancelled: bool;
}

#[repr(C)]
pub struct UloopFd {
    pub cb: Option<unsafe extern "C" fn(*mut UloopFd, c_uint)>,
    pub fd: c_int,
    pub eof: bool,
    pub error: bool,
    pub registered: bool,
    pub flags: u8,
}

#[repr(C)]
pub struct ListHead {
    pub next: *mut ListHead,
    pub prev: *mut ListHead,
}

#[repr(C)]
pub struct UloopTimeout {
    pub list: ListHead,
    pub pending: bool,
    pub cb: Option<unsafe extern "C" fn(*mut UloopTimeout)>,
    pub time: libc::timeval,
}

impl UloopTimeout {
    /// An unlinked timeout calling `cb`.
    pub fn new(cb: unsafe extern "C" fn(*mut UloopTimeout)) -> Self {
        UloopTimeout {
            list: ListHead {
                next: std::ptr::null_mut(),
                prev: std::ptr::null_mut(),
            },
            pending: false,
            cb: Some(cb),
            time: libc::timeval {
                tv_sec: 0,
                tv_usec: 0,
            },
        }
    }
}
