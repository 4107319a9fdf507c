//! Everything that touches libuv; the only module of this crate with
//! `unsafe`. `watchers` holds the library's handles on a loop, `host` the
//! loops themselves (a host's, or one owned by a Rust program).

mod host;
mod watchers;

pub use host::{HostLoop, UvHostLoop, UvLoopBox, Vouch, host_from_raw};
pub use watchers::UvWatchers;
