//! The library's uloop timeout is re-armed in time with nothing else in the
//! host's loop. The conformance suite's host keeps a 5 ms timeout of its own,
//! which would hide a lost re-arm; here the host waits in
//! `uloop_run_timeout` with a 30 s limit and no source of its own, so a
//! timer that never reached uloop (or was not re-armed after uloop fired it
//! up to a millisecond early: its timeouts are compared in truncated
//! milliseconds) blocks until the watchdog below, and the test fails.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use lws_conformance::peer::{self, Echo};
use lws_core::{Context, Cx};
use lws_loop_uloop::{UloopAttached, UloopHost};

/// Delays of the chained timers: sub-millisecond and fractional ones hit
/// uloop's millisecond rounding.
const CHAIN: [u64; 8] = [1_500, 700, 2_300, 100, 5_000, 1_000, 3_999, 250];

/// Schedule the chain's `i`-th timer from inside the loop; the last one
/// reports on `done`.
fn chain(cx: &mut Cx<'_>, i: usize, log: Rc<RefCell<Vec<bool>>>, done: mpsc::Sender<()>) {
    let Some(&us) = CHAIN.get(i) else {
        let _ = done.send(());
        return;
    };
    let due = cx.now() + Duration::from_micros(us);
    cx.schedule(Duration::from_micros(us), move |cx| {
        log.borrow_mut().push(Instant::now() >= due);
        chain(cx, i + 1, log, done);
    });
}

#[test]
fn timers_rearm_with_no_host_source() {
    let host = UloopHost::init().expect("uloop_init");
    let (mut ctx, _) = peer::tcp_server(Echo::default());
    let remote = ctx.remote();

    // Watchdog: stops the context if the loop stalls, and says so.
    let stalled = Arc::new(AtomicBool::new(false));
    let (disarm, disarmed) = mpsc::channel::<()>();
    let dog = {
        let (remote, stalled) = (remote.clone(), stalled.clone());
        thread::spawn(move || {
            if disarmed.recv_timeout(Duration::from_secs(10)).is_err() {
                stalled.store(true, Ordering::SeqCst);
                remote.stop();
            }
        })
    };

    // A chain of timers, each armed from the previous one's callback; once
    // it ends (no timer left in uloop), a thread posts a last timer through
    // the waker: armed from a descriptor callback while uloop is idle. When
    // that one has fired, the thread stops the context through the waker
    // too (a stop from a timeout callback would end this host's loop
    // iteration in a 30 s wait: uloop waits for events after timeouts).
    let log: Rc<RefCell<Vec<bool>>> = Rc::default();
    let (done_tx, done_rx) = mpsc::channel();
    let l = log.clone();
    ctx.with_cx(|cx| chain(cx, 0, l, done_tx));
    let poster = thread::spawn(move || {
        // Nothing arrives if the watchdog stopped the context first.
        done_rx.recv().ok()?;
        // Let uloop go idle first (a shorter pause only tests less).
        thread::sleep(Duration::from_millis(20));
        let (last_tx, last_rx) = mpsc::channel();
        remote.post(move |cx| {
            let due = cx.now() + Duration::from_micros(1_500);
            cx.schedule(Duration::from_micros(1_500), move |_| {
                let _ = last_tx.send(Instant::now() >= due);
            });
        });
        let on_time = last_rx.recv().ok();
        remote.stop();
        on_time
    });

    let back: Rc<RefCell<Option<Context>>> = Rc::default();
    let b = back.clone();
    let lws = UloopAttached::attach(ctx, host.host(), move |c| *b.borrow_mut() = Some(c))
        .expect("attach");
    while back.borrow().is_none() {
        host.run_once(30_000);
    }
    let _ = disarm.send(());
    dog.join().expect("watchdog");
    let posted_on_time = poster.join().expect("poster");
    assert!(lws.is_detached());
    drop(lws);
    drop(host);

    assert!(
        !stalled.load(Ordering::SeqCst),
        "the loop stalled: a timer was not re-armed in uloop"
    );
    assert_eq!(
        *log.borrow(),
        vec![true; CHAIN.len()],
        "every chained timer fired, none early"
    );
    assert_eq!(
        posted_on_time,
        Some(true),
        "the posted timer fired, not early"
    );
}
