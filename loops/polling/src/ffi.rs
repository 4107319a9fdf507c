//! Registering raw descriptors with a `Poller`: the only unsafe code here.
//!
//! The core hands out raw fds in its commands and guarantees each stays
//! open until its `Unwatch` has been applied (the command owns it and
//! closes it when dropped), which is exactly `Poller::add`'s contract.

use std::io;
use std::os::fd::{BorrowedFd, RawFd};

use polling::{Event, PollMode, Poller};

pub(crate) fn add(p: &Poller, fd: RawFd, ev: Event, mode: PollMode) -> io::Result<()> {
    // SAFETY: the core keeps `fd` open until it has been removed with
    // `delete` (it closes the fd only after its Unwatch is applied).
    unsafe { p.add_with_mode(fd, ev, mode) }
}

fn borrow(fd: RawFd) -> BorrowedFd<'static> {
    // SAFETY: as above, `fd` is open for as long as it is registered; the
    // borrow is used for one call and never stored.
    unsafe { BorrowedFd::borrow_raw(fd) }
}

pub(crate) fn modify(p: &Poller, fd: RawFd, ev: Event, mode: PollMode) -> io::Result<()> {
    p.modify_with_mode(borrow(fd), ev, mode)
}

pub(crate) fn delete(p: &Poller, fd: RawFd) -> io::Result<()> {
    p.delete(borrow(fd))
}
