//! Retry policy and backoff state: the one type every client uses to decide
//! when to try again after a failure (C libwebsockets' `lws_retry_bo_t` and
//! `lws_retry_get_delay_ms()`).
//!
//! A [`RetryPolicy`] is the shared, immutable description, built once and
//! cloned cheaply into every connection or client that uses it:
//!
//! - **delay table** (`retry_ms_table` / `retry_ms_table_count` in C): the
//!   base delay in milliseconds before the 1st, 2nd, 3rd, ... retry. Once the
//!   failures outnumber the entries, the last entry repeats.
//! - **jitter percentage** (`jitter_percent`): a random amount in
//!   `[0, jitter% of the base delay)` is *added* to each base delay, so many
//!   clients failing together do not retry in lockstep. 0 means none; at most
//!   100.
//! - **conceal count** (`conceal_count`): how many consecutive failures are
//!   "concealed", i.e. retried silently without telling the user. With a count
//!   of N, failures 1..=N each get [`RetryDecision::Retry`]; failure N+1 gets
//!   [`RetryDecision::GiveUp`]: the caller reports the failure to the user and
//!   stops retrying. [`Conceal::Always`] (C's `LWS_RETRY_CONCEAL_ALWAYS`) never
//!   gives up.
//!
//! C's `secs_since_valid_ping` / `secs_since_valid_hangup` (connection
//! validity) are not part of this type: the WebSocket role has its own ping
//! interval and pong timeout.
//!
//! A [`Backoff`] is the per-connection (or per-client) state, C's `ctry`
//! counter: [`Backoff::next`] is called on each failure and says how long to
//! wait, [`Backoff::reset`] is called on success so the next failure starts
//! again at the top of the table.
//!
//! ```
//! use std::time::Duration;
//! use lws_core::{RetryDecision, RetryPolicy};
//!
//! let policy = RetryPolicy::builder()
//!     .delays([1000, 2000, 5000])
//!     .jitter_pct(20)
//!     .conceal(5)
//!     .build()?;
//! let mut backoff = policy.backoff();
//! let mut rng = fastrand::Rng::new();
//! // A connect attempt failed: wait 1 s plus up to 200 ms, then try again.
//! let RetryDecision::Retry(wait) = backoff.next(&mut rng) else { unreachable!() };
//! assert!(wait >= Duration::from_secs(1) && wait < Duration::from_millis(1200));
//! // ... later the connection is up: start over next time.
//! backoff.reset();
//! # Ok::<(), lws_core::RetryPolicyError>(())
//! ```
//!
//! What this module must not do: read a clock, arm a timer, sleep, or pick its
//! own randomness. It is sans-IO: the caller schedules the returned delay on
//! its own timer (e.g. the context's [`Scheduler`](crate::Scheduler)) and
//! supplies the random numbers through [`RetryRng`], so tests are
//! deterministic.

use std::sync::Arc;
use std::time::Duration;

/// How many consecutive failures are retried silently before the user is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conceal {
    /// Retry silently this many times; the next failure gives up.
    Count(u32),
    /// Retry forever (C's `LWS_RETRY_CONCEAL_ALWAYS`).
    Always,
}

/// Why a [`RetryPolicyBuilder`] refused to build.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RetryPolicyError {
    #[error("retry delay table is empty; give at least one delay")]
    EmptyTable,
    #[error("retry jitter of {0}% is above 100%")]
    JitterTooLarge(u8),
}

/// The source of random numbers for jitter. Any `FnMut() -> u32` closure is
/// one (tests pass a fixed sequence); so is a [`fastrand::Rng`].
pub trait RetryRng {
    /// A uniformly distributed `u32`.
    fn next_u32(&mut self) -> u32;
}

impl<F: FnMut() -> u32> RetryRng for F {
    fn next_u32(&mut self) -> u32 {
        self()
    }
}

impl RetryRng for fastrand::Rng {
    fn next_u32(&mut self) -> u32 {
        self.u32(..)
    }
}

/// What to do after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Failure concealed: try again after this delay.
    Retry(Duration),
    /// Report the failure to the user and stop retrying.
    GiveUp,
}

/// A retry policy: delay table, jitter and conceal count (see the module
/// docs). Cheap to clone; clones share the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    delays_ms: Arc<[u32]>,
    jitter_pct: u8,
    conceal: Conceal,
}

impl RetryPolicy {
    /// Starts a builder: no delays yet (one is required), no jitter, and
    /// [`Conceal::Always`].
    pub fn builder() -> RetryPolicyBuilder {
        RetryPolicyBuilder::default()
    }

    /// The delay table in milliseconds.
    pub fn delays_ms(&self) -> &[u32] {
        &self.delays_ms
    }

    /// The jitter percentage (0..=100).
    pub fn jitter_pct(&self) -> u8 {
        self.jitter_pct
    }

    /// The conceal count.
    pub fn conceal(&self) -> Conceal {
        self.conceal
    }

    /// The base delay (before jitter) for the retry after `failures`
    /// consecutive failures (1-based); the last entry repeats.
    pub fn base_delay(&self, failures: u32) -> Duration {
        let last = self.delays_ms.len().saturating_sub(1);
        let idx = usize::try_from(failures.saturating_sub(1)).map_or(last, |i| i.min(last));
        Duration::from_millis(self.delays_ms.get(idx).copied().map_or(0, u64::from))
    }

    /// Adds jitter in `[0, jitter% of base)` to `base`, with microsecond
    /// resolution, from one draw of `rng`. No draw is made without jitter.
    fn jittered(&self, base: Duration, rng: &mut impl RetryRng) -> Duration {
        if self.jitter_pct == 0 {
            return base;
        }
        let max_us = base.as_micros() * u128::from(self.jitter_pct) / 100;
        let added_us = (max_us * u128::from(rng.next_u32())) >> 32;
        base + Duration::from_micros(u64::try_from(added_us).unwrap_or(u64::MAX))
    }

    /// A fresh [`Backoff`] state following this policy.
    pub fn backoff(&self) -> Backoff {
        Backoff::new(self.clone())
    }
}

/// Builds a [`RetryPolicy`]:
/// `RetryPolicy::builder().delays([1000, 2000, 5000]).jitter_pct(20).conceal(5).build()?`.
#[derive(Debug, Clone, Default)]
pub struct RetryPolicyBuilder {
    delays_ms: Vec<u32>,
    jitter_pct: u8,
    conceal: Option<Conceal>,
}

impl RetryPolicyBuilder {
    /// The delay table in milliseconds (replaces any earlier one); the last
    /// entry repeats.
    pub fn delays(mut self, delays_ms: impl IntoIterator<Item = u32>) -> Self {
        self.delays_ms = delays_ms.into_iter().collect();
        self
    }

    /// Jitter added to each delay, as a percentage of the base delay (0..=100).
    pub fn jitter_pct(mut self, pct: u8) -> Self {
        self.jitter_pct = pct;
        self
    }

    /// Retry silently `count` times; the failure after that gives up.
    pub fn conceal(mut self, count: u32) -> Self {
        self.conceal = Some(Conceal::Count(count));
        self
    }

    /// Never give up (the default).
    pub fn conceal_always(mut self) -> Self {
        self.conceal = Some(Conceal::Always);
        self
    }

    /// Checks the settings: the table must not be empty and the jitter must be
    /// at most 100%.
    pub fn build(self) -> Result<RetryPolicy, RetryPolicyError> {
        if self.delays_ms.is_empty() {
            return Err(RetryPolicyError::EmptyTable);
        }
        if self.jitter_pct > 100 {
            return Err(RetryPolicyError::JitterTooLarge(self.jitter_pct));
        }
        Ok(RetryPolicy {
            delays_ms: self.delays_ms.into(),
            jitter_pct: self.jitter_pct,
            conceal: self.conceal.unwrap_or(Conceal::Always),
        })
    }
}

/// Per-connection retry state (C's `ctry`): counts consecutive failures.
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: RetryPolicy,
    failures: u32,
}

impl Backoff {
    /// A fresh state: no failures yet.
    pub fn new(policy: RetryPolicy) -> Self {
        Self {
            policy,
            failures: 0,
        }
    }

    /// The policy this state follows.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// Consecutive failures recorded since the last [`reset`](Self::reset).
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Records one more failure and says what to do: retry after a delay
    /// (base from the table plus jitter) while the failure is concealed, else
    /// give up. Once given up it keeps giving up until [`reset`](Self::reset).
    pub fn next(&mut self, rng: &mut impl RetryRng) -> RetryDecision {
        self.failures = self.failures.saturating_add(1);
        if let Conceal::Count(n) = self.policy.conceal
            && self.failures > n
        {
            return RetryDecision::GiveUp;
        }
        let base = self.policy.base_delay(self.failures);
        RetryDecision::Retry(self.policy.jittered(base, rng))
    }

    /// Success: the next failure starts again at the top of the table with
    /// the whole conceal count.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}
