//! The only place this crate touches raw descriptors.
//!
//! The core hands us `RawFd`s in its `IoCmd`s; rustix's safe epoll API wants
//! `BorrowedFd`s. Borrowing is sound because of the core's ordering rule:
//! a descriptor stays open until its `Unwatch` command has been applied
//! (the command itself owns the descriptor and closes it when dropped).

use std::io;
use std::os::fd::{BorrowedFd, OwnedFd, RawFd};
use std::time::Duration;

use rustix::event::{Timespec, epoll};

fn borrow(fd: RawFd) -> BorrowedFd<'static> {
    // SAFETY: the core keeps `fd` open until it has received and applied
    // the `Unwatch` for it; every caller here runs while applying a command
    // for a descriptor the core still owns, and the borrow does not outlive
    // that call (the 'static is never stored).
    unsafe { BorrowedFd::borrow_raw(fd) }
}

pub(crate) fn add(ep: &OwnedFd, fd: RawFd, data: u64, flags: epoll::EventFlags) -> io::Result<()> {
    Ok(epoll::add(
        ep,
        borrow(fd),
        epoll::EventData::new_u64(data),
        flags,
    )?)
}

pub(crate) fn modify(
    ep: &OwnedFd,
    fd: RawFd,
    data: u64,
    flags: epoll::EventFlags,
) -> io::Result<()> {
    Ok(epoll::modify(
        ep,
        borrow(fd),
        epoll::EventData::new_u64(data),
        flags,
    )?)
}

pub(crate) fn delete(ep: &OwnedFd, fd: RawFd) -> io::Result<()> {
    Ok(epoll::delete(ep, borrow(fd))?)
}

/// Wait for events into `events` (cleared by the caller, filled here).
pub(crate) fn wait(
    ep: &OwnedFd,
    events: &mut Vec<epoll::Event>,
    timeout: Option<Duration>,
) -> io::Result<()> {
    let ts = timeout.map(|d| Timespec {
        tv_sec: d.as_secs().min(i64::MAX as u64) as i64,
        tv_nsec: i64::from(d.subsec_nanos()),
    });
    epoll::wait(ep, rustix::buffer::spare_capacity(events), ts.as_ref())?;
    Ok(())
}
