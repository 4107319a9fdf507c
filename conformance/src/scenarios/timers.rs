//! Timers: scheduler order and accuracy, per-connection timers and
//! timeouts, and the vhost idle timeout.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::thread;
use std::time::{Duration, Instant};

use lws_core::{CloseReason, ConnCx};
use lws_role_raw::{RawEvent, RawHandler};

use crate::Runner;
use crate::peer::{self, Echo, Watchdog};

const TIMERS: usize = 50;
/// Target on an idle machine: timers fire within 5 ms of due. Printed, not
/// asserted: on a shared machine a descheduled loop thread is late by tens
/// of milliseconds without any bug.
const TARGET_LATENESS: Duration = Duration::from_millis(5);
/// Sanity bound on the worst lateness: far above scheduling delay on a
/// loaded machine, well below a timer whose re-arm was lost and that waits
/// for an unrelated wake-up (the watchdog's 60 s here).
const MAX_LATENESS: Duration = Duration::from_secs(5);

/// Deterministic spread of delays (a tiny LCG; no rand dependency).
fn delays() -> Vec<Duration> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    (0..TIMERS)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            Duration::from_micros(1_000 + (x >> 33) % 150_000)
        })
        .collect()
}

type Fired = Rc<RefCell<Vec<(usize, Instant, Instant)>>>;

/// Timers fire in deadline order and never early (strict), and every one
/// fires; their lateness is printed as a figure and only bounded loosely.
///
/// The timers are scheduled from a zero-delay timer, i.e. once the loop
/// runs: a runner may wait before it drives the context (uloop's tests take
/// turns on the process-global loop), and that wait is not lateness.
pub fn deadline_order(run: Runner<'_>) {
    let (mut ctx, _) = peer::tcp_server(Echo::default());
    let _dog = Watchdog::arm(ctx.remote(), peer::SCENARIO_LIMIT);
    let fired: Fired = Rc::default();
    let log = fired.clone();
    ctx.with_cx(|cx| {
        cx.schedule(Duration::ZERO, move |cx| {
            let start = cx.now();
            for (i, d) in delays().into_iter().enumerate() {
                let log = log.clone();
                cx.schedule(d, move |cx| {
                    log.borrow_mut().push((i, start + d, Instant::now()));
                    if log.borrow().len() == TIMERS {
                        cx.stop();
                    }
                });
            }
        });
    });
    let _ctx = run(ctx);
    let fired = fired.borrow();
    assert_eq!(fired.len(), TIMERS, "every timer fired");
    for w in fired.windows(2) {
        let ((ia, da, _), (ib, db, _)) = (w[0], w[1]);
        assert!(
            da < db || (da == db && ia < ib),
            "timer {ia} (due {da:?}) fired before {ib} (due {db:?})"
        );
    }
    let mut late: Vec<Duration> = fired
        .iter()
        .map(|&(i, due, at)| {
            assert!(at >= due, "timer {i} fired {:?} early", due - at);
            at - due
        })
        .collect();
    late.sort();
    let (median, worst) = (late[TIMERS / 2], late[TIMERS - 1]);
    eprintln!(
        "timer lateness: median {median:?}, worst {worst:?} (target on an idle machine: {TARGET_LATENESS:?})"
    );
    assert!(
        worst < MAX_LATENESS,
        "a timer fired {worst:?} late: lost wake-up?"
    );
}

/// Per-connection timers fire in order, a cancelled one never fires, and
/// the connection timeout closes with `Timeout`.
#[derive(Default)]
struct TimerUser {
    seen: Vec<u64>,
    closed: Vec<CloseReason>,
}

impl RawHandler for TimerUser {
    type Session = ();

    fn on_event(&mut self, cx: &mut ConnCx<'_>, _: &mut (), ev: RawEvent<'_>) {
        match ev {
            RawEvent::Opened(_) => {
                cx.set_timer(Duration::from_millis(30), 1);
                cx.set_timer(Duration::from_millis(10), 2);
                let cancelled = cx.set_timer(Duration::from_millis(20), 3);
                cx.cancel_timer(cancelled);
                cx.set_timeout(Some(Duration::from_millis(60)));
            }
            RawEvent::Timer(id) => self.seen.push(id),
            RawEvent::Closed(r) => {
                self.closed.push(r.clone());
                cx.cx().stop();
            }
            _ => {}
        }
    }
}

pub fn connection_timers(run: Runner<'_>) {
    let (ctx, addr) = peer::tcp_server(TimerUser::default());
    let _dog = Watchdog::arm(ctx.remote(), peer::SCENARIO_LIMIT);
    let client = thread::spawn(move || {
        let mut s = peer::connect(addr);
        peer::read_to_eof(&mut s).map(|b| b.len())
    });
    let mut ctx = run(ctx);
    assert_eq!(client.join().expect("client").expect("clean EOF"), 0);
    let h = peer::handler::<TimerUser>(&mut ctx);
    assert_eq!(
        h.seen,
        vec![2, 1],
        "timers in deadline order, cancelled one absent"
    );
    assert_eq!(h.closed, vec![CloseReason::Timeout]);
}

/// A silent peer is closed after the idle timeout; a peer that keeps
/// sending is not.
///
/// The chatty peer sends every `idle / 20` until the silent one is closed
/// (and once more after): only a stall of its thread for nearly the whole
/// idle timeout, not ordinary scheduling delay, could get it closed.
pub fn idle_timeout(run: Runner<'_>) {
    let idle = Duration::from_secs(1);
    let (ctx, addr) = peer::tcp_server_with(Echo::default(), |v| v.idle_timeout(Some(idle)));
    let remote = ctx.remote();
    let _dog = Watchdog::arm(remote.clone(), peer::SCENARIO_LIMIT);
    let peers = thread::spawn(move || {
        let silent = thread::spawn(move || {
            // Start the clock before connecting: the server may accept (and
            // arm the idle timer) before this thread returns from connect.
            let t0 = Instant::now();
            let mut s = peer::connect(addr);
            let eof = peer::read_to_eof(&mut s)
                .map(|b| b.is_empty())
                .unwrap_or(false);
            (eof, t0.elapsed())
        });
        let mut chatty = peer::connect(addr);
        let mut exchange = || {
            thread::sleep(idle / 20);
            chatty.write_all(b"x").expect("chatty peer still connected");
            assert_eq!(peer::read_n(&mut chatty, 1), b"x");
        };
        // Bounded: the silent peer's read times out after 20 s at most.
        while !silent.is_finished() {
            exchange();
        }
        exchange();
        let r = silent.join().expect("silent peer");
        remote.stop();
        r
    });
    let mut ctx = run(ctx);
    let (eof, after) = peers.join().expect("peers");
    assert!(eof, "silent peer saw a clean close");
    assert!(after >= idle, "closed before the idle timeout: {after:?}");
    assert!(
        after < idle * 10,
        "held far longer than the idle timeout: {after:?}"
    );
    let echo = peer::handler::<Echo>(&mut ctx);
    assert!(
        echo.closed.contains(&CloseReason::IdleTimeout),
        "closed: {:?}",
        echo.closed
    );
    assert_eq!(
        echo.closed
            .iter()
            .filter(|r| **r == CloseReason::IdleTimeout)
            .count(),
        1
    );
}
