//! Mirror of the core's watch set onto a `mio::Registry`, tracking which
//! descriptors are registered (mio has no empty interest, so a connection
//! wanting nothing is deregistered and re-registered later).

use std::collections::HashMap;
use std::io;
use std::os::fd::RawFd;

use lws_core::{Interest, Token};
use mio::unix::SourceFd;

use crate::TOKEN_TAG;

/// The library's registrations in one registry: fd -> currently registered.
#[derive(Debug)]
pub struct Registrations {
    registry: mio::Registry,
    fds: HashMap<RawFd, bool>,
}

fn mio_interest(i: Interest) -> Option<mio::Interest> {
    match (i.readable, i.writable) {
        (true, true) => Some(mio::Interest::READABLE | mio::Interest::WRITABLE),
        (true, false) => Some(mio::Interest::READABLE),
        (false, true) => Some(mio::Interest::WRITABLE),
        (false, false) => None,
    }
}

fn tagged(token: Token) -> io::Result<mio::Token> {
    let raw = usize::try_from(token.into_raw()).map_err(io::Error::other)?;
    if raw & TOKEN_TAG != 0 {
        return Err(io::Error::other("token uses the tag bit"));
    }
    Ok(mio::Token(raw | TOKEN_TAG))
}

impl Registrations {
    pub fn new(registry: mio::Registry) -> Self {
        Registrations {
            registry,
            fds: HashMap::new(),
        }
    }

    pub fn watch(&mut self, fd: RawFd, token: Token, interest: Interest) -> io::Result<()> {
        let registered = match mio_interest(interest) {
            Some(i) => {
                self.registry
                    .register(&mut SourceFd(&fd), tagged(token)?, i)?;
                true
            }
            None => false,
        };
        self.fds.insert(fd, registered);
        Ok(())
    }

    pub fn modify(&mut self, fd: RawFd, token: Token, interest: Interest) -> io::Result<()> {
        let was = self.fds.get(&fd).copied().unwrap_or(false);
        let now = match (mio_interest(interest), was) {
            (Some(i), true) => {
                self.registry
                    .reregister(&mut SourceFd(&fd), tagged(token)?, i)?;
                true
            }
            (Some(i), false) => {
                self.registry
                    .register(&mut SourceFd(&fd), tagged(token)?, i)?;
                true
            }
            (None, true) => {
                self.registry.deregister(&mut SourceFd(&fd))?;
                false
            }
            (None, false) => false,
        };
        self.fds.insert(fd, now);
        Ok(())
    }

    pub fn unwatch(&mut self, fd: RawFd) -> io::Result<()> {
        match self.fds.remove(&fd) {
            Some(true) => self.registry.deregister(&mut SourceFd(&fd)),
            _ => Ok(()),
        }
    }

    /// Deregister everything; returns how many registrations were removed.
    pub fn clear(&mut self) -> usize {
        let mut n = 0;
        for (fd, registered) in self.fds.drain() {
            if registered && self.registry.deregister(&mut SourceFd(&fd)).is_ok() {
                n += 1;
            }
        }
        n
    }

    pub fn len(&self) -> usize {
        self.fds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fds.is_empty()
    }
}
