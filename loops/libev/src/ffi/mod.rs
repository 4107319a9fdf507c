//! The C shim's interface and everything that calls it; the only module of
//! this crate with `unsafe`. `watchers` holds the library's watchers on a
//! loop, `host` the loops themselves (a host's, or one owned by a Rust
//! program).

mod host;
mod shim;
mod watchers;

pub use host::{EvHostLoop, EvLoopBox, HostLoop, Vouch, host_from_raw};
pub use watchers::EvWatchers;
