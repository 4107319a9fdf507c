//! Commands the core queues for the loop adapter to apply after each call.
//!
//! The core decides *what* to watch; the adapter only mirrors it. Commands
//! are applied strictly in order. An [`IoCmd::Unwatch`] for a closed
//! connection carries the descriptor's owner ([`Closing`]): the adapter drops
//! it after removing its watcher, so a descriptor number can never be reused
//! (by a new accept) while a stale watcher still refers to it.

use std::os::fd::RawFd;
use std::time::Instant;

use crate::socket::Socket;
use crate::token::{Interest, Token};

/// One change for the loop adapter to apply.
#[derive(Debug)]
#[non_exhaustive]
pub enum IoCmd {
    /// Start watching `fd`; report readiness with `token`.
    Watch {
        fd: RawFd,
        token: Token,
        interest: Interest,
    },
    /// Change what is watched on an already watched `fd`.
    Modify {
        fd: RawFd,
        token: Token,
        interest: Interest,
    },
    /// Stop watching `fd`. Drop `closing` (if any) only after the watcher is
    /// gone: that closes the descriptor.
    Unwatch {
        fd: RawFd,
        token: Token,
        closing: Option<Closing>,
    },
    /// The earliest scheduler deadline changed; `None` means no timer is
    /// pending. Re-arm the loop's single timer to it.
    Timer(Option<Instant>),
}

/// Owner of a descriptor being closed. Dropping it closes the descriptor.
pub struct Closing(pub(crate) Socket);

impl std::fmt::Debug for Closing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Closing({})", self.0.fd())
    }
}
