//! The retry policy and backoff state: delay table walk, jitter bounds,
//! conceal count, reset, validation, and a connect-fail loop on a virtual
//! clock. No real time passes in any of these tests.

use std::time::{Duration, Instant};

use lws_core::{Backoff, Conceal, RetryDecision, RetryPolicy, RetryPolicyError};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A "random" source that always returns the same value.
fn fixed(v: u32) -> impl FnMut() -> u32 {
    move || v
}

fn policy(delays: &[u32], jitter: u8, conceal: Option<u32>) -> RetryPolicy {
    let b = RetryPolicy::builder()
        .delays(delays.iter().copied())
        .jitter_pct(jitter);
    let b = match conceal {
        Some(n) => b.conceal(n),
        None => b.conceal_always(),
    };
    b.build().expect("valid policy")
}

#[test]
fn delay_table_walks_then_last_entry_repeats() {
    let p = policy(&[100, 250, 1000], 0, None);
    let mut bo = p.backoff();
    let mut rng = fixed(u32::MAX);
    let got: Vec<_> = (0..6).map(|_| bo.next(&mut rng)).collect();
    let want: Vec<_> = [100, 250, 1000, 1000, 1000, 1000]
        .into_iter()
        .map(|d| RetryDecision::Retry(ms(d)))
        .collect();
    assert_eq!(got, want);
    assert_eq!(bo.failures(), 6);
}

#[test]
fn single_entry_table_repeats_from_the_start() {
    let p = policy(&[500], 0, Some(3));
    let mut bo = p.backoff();
    let mut rng = fixed(0);
    for _ in 0..3 {
        assert_eq!(bo.next(&mut rng), RetryDecision::Retry(ms(500)));
    }
    assert_eq!(bo.next(&mut rng), RetryDecision::GiveUp);
}

#[test]
fn jitter_stays_in_bounds_over_many_draws() {
    // Seeded generator: the same draws on every run.
    let mut rng = fastrand::Rng::with_seed(0x5eed_1234);
    let p = policy(&[1000, 3000], 20, None);
    let mut bo = p.backoff();
    let (mut lo, mut hi) = (Duration::MAX, Duration::ZERO);
    for i in 0..10_000u32 {
        let base = if i == 0 { ms(1000) } else { ms(3000) };
        let RetryDecision::Retry(d) = bo.next(&mut rng) else {
            panic!("unbounded conceal never gives up");
        };
        assert!(d >= base, "draw {i}: {d:?} below base {base:?}");
        assert!(d < base + base / 5, "draw {i}: {d:?} not below base + 20%");
        if i > 0 {
            lo = lo.min(d - base);
            hi = hi.max(d - base);
        }
    }
    // The draws spread over the whole range, not a corner of it.
    assert!(lo < ms(10), "smallest jitter {lo:?}");
    assert!(hi > ms(590), "largest jitter {hi:?}");
}

#[test]
fn jitter_extremes_are_exact() {
    let p = policy(&[1000], 50, None);
    // r = 0 adds nothing; r = u32::MAX adds just under 50%; r = 2^31 adds 25%.
    assert_eq!(
        p.backoff().next(&mut fixed(0)),
        RetryDecision::Retry(ms(1000))
    );
    assert_eq!(
        p.backoff().next(&mut fixed(1 << 31)),
        RetryDecision::Retry(ms(1250))
    );
    let RetryDecision::Retry(d) = p.backoff().next(&mut fixed(u32::MAX)) else {
        panic!("retry expected");
    };
    assert!(d < ms(1500) && d > ms(1499), "{d:?}");
    // 100% jitter is allowed: at most just under double.
    let p = policy(&[1000], 100, None);
    let RetryDecision::Retry(d) = p.backoff().next(&mut fixed(u32::MAX)) else {
        panic!("retry expected");
    };
    assert!(d < ms(2000) && d > ms(1999), "{d:?}");
}

#[test]
fn no_jitter_draws_no_random_number() {
    let p = policy(&[10, 20], 0, None);
    let mut bo = p.backoff();
    let mut rng = || -> u32 { panic!("rng used without jitter") };
    assert_eq!(bo.next(&mut rng), RetryDecision::Retry(ms(10)));
    assert_eq!(bo.next(&mut rng), RetryDecision::Retry(ms(20)));
}

#[test]
fn conceal_count_retries_exactly_n_times_then_gives_up() {
    for n in [0u32, 1, 2, 5] {
        let p = policy(&[10, 20, 30], 0, Some(n));
        let mut bo = p.backoff();
        let mut rng = fixed(0);
        let retries = (0..n)
            .filter(|_| matches!(bo.next(&mut rng), RetryDecision::Retry(_)))
            .count();
        assert_eq!(retries, n as usize, "conceal {n}");
        assert_eq!(bo.next(&mut rng), RetryDecision::GiveUp, "conceal {n}");
        // Stays given up until reset.
        assert_eq!(bo.next(&mut rng), RetryDecision::GiveUp, "conceal {n}");
    }
}

#[test]
fn unbounded_conceal_never_gives_up() {
    let p = policy(&[1, 2], 10, None);
    assert_eq!(p.conceal(), Conceal::Always);
    let mut bo = p.backoff();
    let mut rng = fastrand::Rng::with_seed(7);
    for _ in 0..100_000 {
        assert!(matches!(bo.next(&mut rng), RetryDecision::Retry(_)));
    }
}

#[test]
fn reset_after_success_restarts_table_and_conceal_count() {
    let p = policy(&[100, 200, 400], 0, Some(2));
    let mut bo = Backoff::new(p);
    let mut rng = fixed(0);
    assert_eq!(bo.next(&mut rng), RetryDecision::Retry(ms(100)));
    assert_eq!(bo.next(&mut rng), RetryDecision::Retry(ms(200)));
    assert_eq!(bo.next(&mut rng), RetryDecision::GiveUp);
    bo.reset();
    assert_eq!(bo.failures(), 0);
    assert_eq!(bo.next(&mut rng), RetryDecision::Retry(ms(100)));
    bo.reset();
    assert_eq!(bo.next(&mut rng), RetryDecision::Retry(ms(100)));
    assert_eq!(bo.next(&mut rng), RetryDecision::Retry(ms(200)));
    assert_eq!(bo.next(&mut rng), RetryDecision::GiveUp);
}

#[test]
fn validation_errors() {
    assert_eq!(
        RetryPolicy::builder().build(),
        Err(RetryPolicyError::EmptyTable)
    );
    assert_eq!(
        RetryPolicy::builder().delays([]).jitter_pct(10).build(),
        Err(RetryPolicyError::EmptyTable)
    );
    assert_eq!(
        RetryPolicy::builder().delays([100]).jitter_pct(101).build(),
        Err(RetryPolicyError::JitterTooLarge(101))
    );
    let p = RetryPolicy::builder()
        .delays([100, 200])
        .jitter_pct(100)
        .conceal(5)
        .build()
        .expect("valid");
    assert_eq!(p.delays_ms(), &[100, 200]);
    assert_eq!(p.jitter_pct(), 100);
    assert_eq!(p.conceal(), Conceal::Count(5));
}

/// A simulated client: every connect attempt fails until `succeed_at` (an
/// attempt index), the backoff schedules the next attempt on a fake clock
/// (`Instant` plus accumulated delays). Returns each attempt's offset from the
/// start and whether the loop gave up.
fn drive(
    bo: &mut Backoff,
    rng: &mut impl FnMut() -> u32,
    succeed_at: Option<usize>,
) -> (Vec<Duration>, bool) {
    let start = Instant::now();
    let mut now = start;
    let mut attempts = Vec::new();
    for i in 0..1000 {
        attempts.push(now - start);
        if Some(i) == succeed_at {
            bo.reset();
            return (attempts, false);
        }
        match bo.next(rng) {
            RetryDecision::Retry(d) => now += d,
            RetryDecision::GiveUp => return (attempts, true),
        }
    }
    panic!("loop did not end within 1000 attempts");
}

#[test]
fn virtual_clock_connect_fail_schedule() {
    let p = policy(&[100, 200, 400, 1000], 0, Some(5));
    let mut bo = p.backoff();
    let (at, gave_up) = drive(&mut bo, &mut fixed(0), None);
    // Attempt 1 at 0, then 5 concealed retries, the 6th failure gives up.
    assert_eq!(at, [0, 100, 300, 700, 1700, 2700].map(ms));
    assert!(gave_up);

    // With jitter and a fixed draw of 2^31 (half the range): +10% of each base.
    let p = policy(&[100, 200, 400, 1000], 20, Some(5));
    let mut bo = p.backoff();
    let (at, gave_up) = drive(&mut bo, &mut fixed(1 << 31), None);
    assert_eq!(at, [0, 110, 330, 770, 1870, 2970].map(ms));
    assert!(gave_up);
}

#[test]
fn virtual_clock_success_restarts_the_schedule() {
    let p = policy(&[100, 200, 400], 0, Some(3));
    let mut bo = p.backoff();
    // Connect succeeds on the 3rd attempt (index 2).
    let (at, gave_up) = drive(&mut bo, &mut fixed(0), Some(2));
    assert_eq!(at, [0, 100, 300].map(ms));
    assert!(!gave_up);
    // The connection later drops: the schedule starts over from the top.
    let (at, gave_up) = drive(&mut bo, &mut fixed(0), None);
    assert_eq!(at, [0, 100, 300, 700].map(ms));
    assert!(gave_up);
}
