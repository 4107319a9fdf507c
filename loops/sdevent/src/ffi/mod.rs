//! Everything that calls sd-event; the only module of this crate with
//! `unsafe`. `watchers` holds the library's sources on a loop, `host` the
//! loops themselves (a host's, or one owned by a Rust program).

mod host;
mod watchers;

pub use host::{HostEvent, SdEventBox, SdHostEvent, Vouch, host_from_raw};
pub use watchers::SdWatchers;

use std::ffi::c_int;
use std::io;

fn check(rc: c_int, what: &str) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::other(format!(
            "{what}: {}",
            io::Error::from_raw_os_error(-rc)
        )))
    } else {
        Ok(())
    }
}

const CLOCK_MONOTONIC: c_int = libc::CLOCK_MONOTONIC;

/// CLOCK_MONOTONIC in microseconds, sd-event's time base. Through libc
/// (rustix reads the vDSO itself, which valgrind does not map).
fn monotonic_us() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime fills the timespec we own; CLOCK_MONOTONIC
    // always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000 + ts.tv_nsec as u64 / 1000
}
