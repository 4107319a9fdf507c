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

const CLOCK_MONOTONIC: c_int = 1;

fn monotonic_us() -> u64 {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    now.tv_sec as u64 * 1_000_000 + now.tv_nsec as u64 / 1000
}
