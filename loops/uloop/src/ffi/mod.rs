//! Everything that calls uloop; the only module of this crate with
//! `unsafe`. `raw` declares what libubox-sys leaves opaque, `watchers`
//! holds the library's fds and timeouts, `host` the process's uloop as a
//! host (or the owned run) holds it.

mod host;
mod raw;
mod watchers;

pub use host::{HostTimer, HostUloop, UloopHost, UloopInit, Vouch, host_from_raw};
pub use watchers::UloopWatchers;
