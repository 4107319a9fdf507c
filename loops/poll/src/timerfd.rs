//! The embedded mode's timer: a timerfd that sits in the epoll set, so the
//! epoll descriptor alone signals "timers due" to a host loop.

use std::io;
use std::os::fd::OwnedFd;
use std::time::Duration;

use rustix::event::{Timespec, epoll};
use rustix::time::{Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags};

pub(crate) fn create() -> io::Result<OwnedFd> {
    Ok(rustix::time::timerfd_create(
        TimerfdClockId::Monotonic,
        TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
    )?)
}

pub(crate) fn add_to(ep: &OwnedFd, fd: &OwnedFd, data: u64) -> io::Result<()> {
    Ok(epoll::add(
        ep,
        fd,
        epoll::EventData::new_u64(data),
        epoll::EventFlags::IN,
    )?)
}

/// Arm the timer to fire once after `after` (`None`: disarm). A zero value
/// would disarm it, so "due now" uses one nanosecond.
pub(crate) fn arm(fd: &OwnedFd, after: Option<Duration>) -> io::Result<()> {
    let zero = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    let value = match after {
        None => zero,
        Some(d) if d.is_zero() => Timespec {
            tv_sec: 0,
            tv_nsec: 1,
        },
        Some(d) => Timespec {
            tv_sec: d.as_secs().min(i64::MAX as u64) as i64,
            tv_nsec: i64::from(d.subsec_nanos()),
        },
    };
    let spec = Itimerspec {
        it_interval: zero,
        it_value: value,
    };
    rustix::time::timerfd_settime(fd, TimerfdTimerFlags::empty(), &spec)?;
    Ok(())
}

/// Consume the expiration count so the descriptor stops being readable.
pub(crate) fn clear(fd: &OwnedFd) {
    let mut buf = [0u8; 8];
    let _ = rustix::io::read(fd, &mut buf);
}
