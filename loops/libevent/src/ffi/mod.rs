//! Everything that touches libevent; the only module of this crate with
//! `unsafe`. `watchers` holds the library's events on a base, `host` the
//! bases themselves (a host's, or one owned by a Rust program).

mod host;
mod watchers;

pub use host::{EvBaseBox, EvHostBase, HostBase, Vouch, host_from_raw};
pub use watchers::EvWatchers;
