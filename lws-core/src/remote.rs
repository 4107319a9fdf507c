//! The cross-thread waker (`lws_cancel_service` equivalent).
//!
//! A [`Remote`] is the only part of a context that may cross threads. It
//! writes one byte into a socketpair whose read end the context watches like
//! any other descriptor, so every loop adapter supports waking for free. A
//! pending flag coalesces bursts of wakes into one byte; posted closures ride
//! along in a mutex-protected queue that only the service thread drains.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::cx::Cx;

pub(crate) type Posted = Box<dyn FnOnce(&mut Cx<'_>) + Send>;

pub(crate) struct RemoteShared {
    tx: UnixStream,
    pending: AtomicBool,
    stop: AtomicBool,
    posted: Mutex<Vec<Posted>>,
}

/// A `Send + Sync` handle that wakes a context from any thread.
#[derive(Clone)]
pub struct Remote {
    shared: Arc<RemoteShared>,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote")
            .field("pending", &self.shared.pending)
            .finish()
    }
}

impl Remote {
    /// Create the waker; returns the handle and the read end to watch.
    pub(crate) fn new() -> io::Result<(Remote, UnixStream)> {
        let (tx, rx) = UnixStream::pair()?;
        tx.set_nonblocking(true)?;
        rx.set_nonblocking(true)?;
        let shared = RemoteShared {
            tx,
            pending: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            posted: Mutex::new(Vec::new()),
        };
        Ok((
            Remote {
                shared: Arc::new(shared),
            },
            rx,
        ))
    }

    /// Wake the service thread: every protocol receives
    /// [`ContextEvent::Wake`](crate::ContextEvent::Wake).
    pub fn wake(&self) {
        if !self.shared.pending.swap(true, Ordering::AcqRel) {
            // A full socketpair already holds a wake; nothing is lost.
            let _ = (&self.shared.tx).write(&[1]);
        }
    }

    /// Ask the context to shut down gracefully.
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::Release);
        self.wake();
    }

    /// Run `f` on the service thread, with the context's [`Cx`].
    pub fn post(&self, f: impl FnOnce(&mut Cx<'_>) + Send + 'static) {
        if let Ok(mut q) = self.shared.posted.lock() {
            q.push(Box::new(f));
        }
        self.wake();
    }

    /// Service-thread side: consume the wake, returning posted closures and
    /// whether a stop was requested.
    pub(crate) fn drain(&self, rx: &mut UnixStream) -> (Vec<Posted>, bool) {
        let mut buf = [0u8; 64];
        while matches!(rx.read(&mut buf), Ok(n) if n > 0) {}
        // Cleared after draining the bytes and before taking the queue: a
        // wake racing with us either lands in this queue or writes a new byte.
        self.shared.pending.store(false, Ordering::Release);
        let posted = match self.shared.posted.lock() {
            Ok(mut q) => std::mem::take(&mut *q),
            Err(_) => Vec::new(),
        };
        (posted, self.shared.stop.load(Ordering::Acquire))
    }
}
