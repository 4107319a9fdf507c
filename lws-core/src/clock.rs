//! Where a context reads the time: the system's monotonic clock, or a
//! [`ManualClock`] that a test moves forward itself.
//!
//! With a manual clock every `now` the context uses (dispatch times, timer
//! deadlines, connect and resolver timeouts) comes from the clock, and
//! timers fire only when the test advances it and calls
//! [`Context::service_timers`](crate::Context::service_timers): a retry
//! schedule of minutes runs in microseconds, and the times user code sees
//! are exact. Descriptor readiness is still real (real sockets, any loop).
//! This module must not sleep or read the clock on its own.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// A clock that stands still until moved; clones share one time. Give it
/// to [`ContextBuilder::clock`](crate::ContextBuilder::clock).
///
/// ```
/// use std::time::Duration;
/// let clock = lws_core::ManualClock::new();
/// let t0 = clock.now();
/// clock.advance(Duration::from_secs(5));
/// assert_eq!(clock.now() - t0, Duration::from_secs(5));
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock(Rc<Cell<Instant>>);

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl ManualClock {
    /// A clock reading the system's time now, and staying there.
    pub fn new() -> Self {
        ManualClock(Rc::new(Cell::new(Instant::now())))
    }

    /// The clock's time.
    pub fn now(&self) -> Instant {
        self.0.get()
    }

    /// Move forward by `d`.
    pub fn advance(&self, d: Duration) {
        self.0.set(self.0.get() + d);
    }

    /// Move forward to `t` (a time in the past leaves the clock as it is:
    /// it never goes back).
    pub fn advance_to(&self, t: Instant) {
        if t > self.0.get() {
            self.0.set(t);
        }
    }
}
