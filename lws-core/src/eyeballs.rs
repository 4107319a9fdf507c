//! Happy Eyeballs (RFC 8305) as a sans-IO planner: which address to try
//! next, and when, for one client connection to a host name.
//!
//! The context feeds it the resolver's answers ([`Race::add`], possibly in
//! two parts: one family early, then the whole answer), the failures of
//! its connection attempts ([`Race::attempt_failed`]) and the time; it
//! answers with [`Race::poll`]: start an attempt to this address, wait
//! until then, give up with this error, or nothing to do until an input.
//! The rules, by section of RFC 8305:
//!
//! - §3 Resolution Delay: when the non-preferred family (A, for the
//!   default IPv6 preference) answers first, wait this long (50 ms) for the
//!   preferred one before the first attempt; a whole answer ends the wait.
//! - §4 Sorting: the preferred family first, then the families alternate
//!   (First Address Family Count 1). Addresses arriving after attempts
//!   have started join the list, the next one of the other family first.
//! - §5 Connection Attempt Delay: the next attempt starts this long (250 ms
//!   by default, at least 10 ms) after the previous one if none has
//!   connected; a failed attempt starts the next one at once.
//! - §5 "first to connect wins": the caller cancels the other attempts;
//!   the race is then over and the planner dropped.
//!
//! This module must not open sockets, read a clock or arm timers.

use std::collections::VecDeque;
use std::io;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The shortest Connection Attempt Delay RFC 8305 §5 allows.
pub(crate) const MIN_ATTEMPT_DELAY: Duration = Duration::from_millis(10);

/// What the caller should do next.
#[derive(Debug)]
pub(crate) enum Step {
    /// Start a connection attempt to this address now.
    Start(IpAddr),
    /// Nothing before this instant (arm a timer, then poll again).
    WaitUntil(Instant),
    /// Every address failed (or there was none): report this error.
    Failed(io::Error),
    /// Nothing until an input (an answer, a failure).
    Idle,
}

/// The race of one connection's attempts.
#[derive(Debug)]
pub(crate) struct Race {
    prefer_v6: bool,
    attempt_delay: Duration,
    resolution_delay: Duration,
    /// Addresses not tried yet, per family, in the resolver's order.
    v6: VecDeque<IpAddr>,
    v4: VecDeque<IpAddr>,
    /// Every address seen, tried or not (answers repeat partial ones).
    seen: Vec<IpAddr>,
    /// Family of the latest attempt (`true`: IPv6); `None` before the first.
    last_v6: Option<bool>,
    in_flight: usize,
    /// The resolver has given its whole answer (or failed).
    complete: bool,
    /// Resolution Delay: no attempt before this, unless the answer completes.
    hold_until: Option<Instant>,
    /// Connection Attempt Delay: the next attempt not before this while
    /// others are in flight.
    next_start: Option<Instant>,
    last_error: Option<io::Error>,
}

impl Race {
    pub fn new(prefer_v6: bool, attempt_delay: Duration, resolution_delay: Duration) -> Self {
        Race {
            prefer_v6,
            attempt_delay: attempt_delay.max(MIN_ATTEMPT_DELAY),
            resolution_delay,
            v6: VecDeque::new(),
            v4: VecDeque::new(),
            seen: Vec::new(),
            last_v6: None,
            in_flight: 0,
            complete: false,
            hold_until: None,
            next_start: None,
            last_error: None,
        }
    }

    /// Addresses from the resolver. `complete`: this is its whole answer
    /// (else one family's, the other still asked). Addresses already seen
    /// are skipped.
    pub fn add(&mut self, addrs: &[IpAddr], complete: bool, now: Instant) {
        for ip in addrs {
            if self.seen.contains(ip) {
                continue;
            }
            self.seen.push(*ip);
            match ip.is_ipv6() {
                true => self.v6.push_back(*ip),
                false => self.v4.push_back(*ip),
            }
        }
        if complete {
            self.complete = true;
            self.hold_until = None;
            return;
        }
        let preferred = addrs.iter().any(|ip| ip.is_ipv6() == self.prefer_v6);
        if self.last_v6.is_none() && !preferred && self.hold_until.is_none() {
            self.hold_until = Some(now + self.resolution_delay);
        }
    }

    /// The resolver failed: no more addresses will come.
    pub fn resolve_failed(&mut self, err: io::Error) {
        self.complete = true;
        self.hold_until = None;
        self.last_error.get_or_insert(err);
    }

    /// One attempt failed (refused, timed out, ...): the next may start at
    /// once.
    pub fn attempt_failed(&mut self, err: io::Error, now: Instant) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.next_start = Some(now);
        self.last_error = Some(err);
    }

    /// Attempts started and not yet failed.
    #[cfg(test)]
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Whether the attempt about to start is the last one there can be.
    pub fn is_last(&self) -> bool {
        self.complete && self.in_flight == 0 && self.v6.len() + self.v4.len() == 1
    }

    /// What to do now.
    pub fn poll(&mut self, now: Instant) -> Step {
        if let Some(t) = self.hold_until {
            if now < t {
                return Step::WaitUntil(t);
            }
            self.hold_until = None;
        }
        if self.v6.is_empty() && self.v4.is_empty() {
            if self.complete && self.in_flight == 0 {
                return Step::Failed(self.last_error.take().unwrap_or_else(no_address));
            }
            return Step::Idle;
        }
        if let Some(t) = self.next_start.filter(|t| self.in_flight > 0 && now < *t) {
            return Step::WaitUntil(t);
        }
        let Some(ip) = self.next_address() else {
            return Step::Idle;
        };
        self.last_v6 = Some(ip.is_ipv6());
        self.in_flight += 1;
        self.next_start = Some(now + self.attempt_delay);
        Step::Start(ip)
    }

    /// The preferred family first, then the other family than the latest
    /// attempt's, while it has addresses left.
    fn next_address(&mut self) -> Option<IpAddr> {
        let want_v6 = match self.last_v6 {
            None => self.prefer_v6,
            Some(v6) => !v6,
        };
        let (first, second) = match want_v6 {
            true => (&mut self.v6, &mut self.v4),
            false => (&mut self.v4, &mut self.v6),
        };
        first.pop_front().or_else(|| second.pop_front())
    }
}

fn no_address() -> io::Error {
    crate::dns::dns_io_error(lws_dns::DnsError::NoAddress)
}

#[cfg(test)]
mod tests {
    use super::*;

    const AD: Duration = Duration::from_millis(250);
    const RD: Duration = Duration::from_millis(50);

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn start(step: Step) -> IpAddr {
        match step {
            Step::Start(ip) => ip,
            other => panic!("expected an attempt, got {other:?}"),
        }
    }

    fn refused() -> io::Error {
        io::Error::new(io::ErrorKind::ConnectionRefused, "refused")
    }

    #[test]
    fn rfc8305_4_families_interleave_preferred_first() {
        let t0 = Instant::now();
        let mut r = Race::new(true, AD, RD);
        let all = ["::1", "::2", "127.0.0.1", "127.0.0.2", "127.0.0.3"].map(ip);
        r.add(&all, true, t0);
        let mut order = Vec::new();
        for _ in 0..all.len() {
            order.push(start(r.poll(t0)));
            r.attempt_failed(refused(), t0);
        }
        let want = ["::1", "127.0.0.1", "::2", "127.0.0.2", "127.0.0.3"].map(ip);
        assert_eq!(order, want);
        assert!(
            matches!(r.poll(t0), Step::Failed(e) if e.kind() == io::ErrorKind::ConnectionRefused)
        );
    }

    #[test]
    fn rfc8305_5_next_attempt_after_the_connection_attempt_delay() {
        let t0 = Instant::now();
        let mut r = Race::new(true, AD, RD);
        r.add(&["::1", "127.0.0.1"].map(ip), true, t0);
        assert_eq!(start(r.poll(t0)), ip("::1"));
        assert!(matches!(r.poll(t0 + ms(249)), Step::WaitUntil(t) if t == t0 + AD));
        assert_eq!(start(r.poll(t0 + AD)), ip("127.0.0.1"));
        assert_eq!(r.in_flight(), 2);
        // Both in flight, none left: wait for one to connect or fail.
        assert!(matches!(r.poll(t0 + ms(400)), Step::Idle));
        r.attempt_failed(refused(), t0 + ms(500));
        assert!(
            matches!(r.poll(t0 + ms(500)), Step::Idle),
            "one still in flight"
        );
        r.attempt_failed(refused(), t0 + ms(600));
        assert!(matches!(r.poll(t0 + ms(600)), Step::Failed(_)));
    }

    #[test]
    fn rfc8305_5_a_failure_starts_the_next_attempt_at_once() {
        let t0 = Instant::now();
        let mut r = Race::new(true, AD, RD);
        r.add(&["::1", "127.0.0.1", "::2"].map(ip), true, t0);
        assert_eq!(start(r.poll(t0)), ip("::1"));
        r.attempt_failed(refused(), t0 + ms(3));
        assert_eq!(start(r.poll(t0 + ms(3))), ip("127.0.0.1"));
        // The delay counts again from that start.
        assert!(matches!(r.poll(t0 + ms(4)), Step::WaitUntil(t) if t == t0 + ms(3) + AD));
    }

    #[test]
    fn rfc8305_5_attempt_delay_has_a_10ms_floor() {
        let t0 = Instant::now();
        let mut r = Race::new(true, Duration::ZERO, RD);
        r.add(&["::1", "::2"].map(ip), true, t0);
        start(r.poll(t0));
        assert!(matches!(r.poll(t0), Step::WaitUntil(t) if t == t0 + MIN_ATTEMPT_DELAY));
    }

    #[test]
    fn rfc8305_3_aaaa_first_starts_at_once() {
        let t0 = Instant::now();
        let mut r = Race::new(true, AD, RD);
        r.add(&[ip("::1")], false, t0);
        assert_eq!(start(r.poll(t0)), ip("::1"));
        assert!(
            matches!(r.poll(t0 + ms(1)), Step::Idle),
            "waits for A or the attempt"
        );
        // A arrives later: it joins the race after the attempt delay.
        r.add(&["::1", "127.0.0.1"].map(ip), true, t0 + ms(20));
        assert!(matches!(r.poll(t0 + ms(20)), Step::WaitUntil(t) if t == t0 + AD));
        assert_eq!(start(r.poll(t0 + AD)), ip("127.0.0.1"));
    }

    #[test]
    fn rfc8305_3_a_first_waits_the_resolution_delay_for_aaaa() {
        let t0 = Instant::now();
        let mut r = Race::new(true, AD, RD);
        r.add(&[ip("127.0.0.1")], false, t0);
        assert!(matches!(r.poll(t0 + ms(10)), Step::WaitUntil(t) if t == t0 + RD));
        // AAAA within the delay: the preferred family goes first.
        r.add(&["::1", "127.0.0.1"].map(ip), true, t0 + ms(30));
        assert_eq!(start(r.poll(t0 + ms(30))), ip("::1"));
    }

    #[test]
    fn rfc8305_3_no_aaaa_within_the_resolution_delay_starts_with_a() {
        let t0 = Instant::now();
        let mut r = Race::new(true, AD, RD);
        r.add(&["127.0.0.1", "127.0.0.2"].map(ip), false, t0);
        assert!(matches!(r.poll(t0), Step::WaitUntil(_)));
        assert_eq!(start(r.poll(t0 + RD)), ip("127.0.0.1"));
        // AAAA comes late: the next attempt switches family.
        r.add(
            &["::1", "127.0.0.1", "127.0.0.2"].map(ip),
            true,
            t0 + ms(100),
        );
        assert_eq!(start(r.poll(t0 + RD + AD)), ip("::1"));
        assert_eq!(start(r.poll(t0 + RD + AD * 2)), ip("127.0.0.2"));
    }

    #[test]
    fn prefer_v4_mirrors_the_rules() {
        let t0 = Instant::now();
        let mut r = Race::new(false, AD, RD);
        r.add(&[ip("::1")], false, t0);
        assert!(matches!(r.poll(t0), Step::WaitUntil(t) if t == t0 + RD));
        r.add(&["::1", "127.0.0.1"].map(ip), true, t0 + ms(5));
        assert_eq!(start(r.poll(t0 + ms(5))), ip("127.0.0.1"));
    }

    #[test]
    fn resolver_failure_with_nothing_tried_reports_it() {
        let t0 = Instant::now();
        let mut r = Race::new(true, AD, RD);
        assert!(matches!(r.poll(t0), Step::Idle));
        let dns = crate::dns::dns_io_error(lws_dns::DnsError::Timeout);
        r.resolve_failed(dns);
        match r.poll(t0) {
            Step::Failed(e) => assert_eq!(crate::dns_error(&e), Some(&lws_dns::DnsError::Timeout)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn empty_whole_answer_is_no_address() {
        let t0 = Instant::now();
        let mut r = Race::new(true, AD, RD);
        r.add(&[], true, t0);
        match r.poll(t0) {
            Step::Failed(e) => {
                assert_eq!(crate::dns_error(&e), Some(&lws_dns::DnsError::NoAddress))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn is_last_only_for_a_lone_final_address() {
        let t0 = Instant::now();
        let mut r = Race::new(true, AD, RD);
        r.add(&[ip("127.0.0.1")], false, t0);
        assert!(!r.is_last(), "AAAA may still come");
        r.add(&[ip("127.0.0.1")], true, t0);
        assert!(r.is_last());
        let mut r = Race::new(true, AD, RD);
        r.add(&["::1", "127.0.0.1"].map(ip), true, t0);
        assert!(!r.is_last());
        start(r.poll(t0));
        assert!(!r.is_last(), "one attempt still in flight");
    }
}
