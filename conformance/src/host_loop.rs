//! Checks for the callback-driven C loops (the `lws-cglue` adapters):
//! the foreign runner their `tests/conformance_foreign.rs` use, and what
//! the scenario suite cannot check: a host that runs its loop again while
//! the library's state is in use, and an attachment that outlives the
//! owner of its loop (`tests/host.rs`, one [`crate::host_loop_checks!`] each).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use lws_cglue::{Attached, Host, Watchers, live_loops};
use lws_core::Context;

use crate::peer::{self, Echo};

/// Upper bound on host iterations a check waits through; each returns
/// within a few milliseconds (the host runs a 1 ms timer of its own).
const MAX_SPINS: usize = 100_000;

/// Run the host's loop until `done` (bounded); whether it got there.
fn spin(run_once: &impl Fn(), done: impl Fn() -> bool) -> bool {
    for _ in 0..MAX_SPINS {
        if done() {
            return true;
        }
        run_once();
    }
    done()
}

/// A context on loopback with a timer that stops it 2 ms from now.
fn stopping_context(fired: &Rc<Cell<bool>>) -> Context {
    let (mut ctx, _) = peer::tcp_server(Echo::default());
    let fired = fired.clone();
    ctx.with_cx(|cx| {
        cx.schedule(Duration::from_millis(2), move |cx| {
            fired.set(true);
            cx.stop();
        });
    });
    ctx
}

/// The host runs nested iterations of its loop from inside
/// `with_context` (the library's state is in use): the one-shot timer that
/// fires in there is queued and served when the host lets go, and the
/// close callbacks of the teardown it starts, also run nested, still
/// complete it. `run_once` is one iteration of the host's loop that
/// returns within a few ms (the host has a repeating timer of its own).
pub fn nested_host_iteration<W: Watchers>(host: Host<'_, W::Owner>, run_once: impl Fn()) {
    let fired = Rc::new(Cell::new(false));
    let back: Rc<RefCell<Option<Context>>> = Rc::default();
    let b = back.clone();
    let ctx = stopping_context(&fired);
    let lws = Attached::<W>::attach(ctx, host, move |c| *b.borrow_mut() = Some(c))
        .unwrap_or_else(|e| panic!("attach: {e}"));
    // The host's loop runs only inside `with_context` here, so the timer
    // can only fire in a nested iteration; serve what was queued in
    // between until it has fired.
    for _ in 0..MAX_SPINS {
        if fired.get() {
            break;
        }
        let queued = lws.with_context(|_| spin(&run_once, || lws.queued() > 0));
        assert_eq!(queued, Some(true), "an event was queued in the nested run");
    }
    assert!(fired.get(), "the timer fired nested and was served after");
    if !lws.is_detached() {
        assert!(lws.closing() > 0, "teardown started and waits for closes");
        let closed = lws.with_context(|_| spin(&run_once, || lws.closing() == 0));
        assert_eq!(closed, Some(true), "the closes completed in the nested run");
    }
    assert!(lws.is_detached(), "teardown completed");
    assert!(back.borrow().is_some(), "on_stopped got the context back");
}

/// An attachment whose loop's owner is dropped keeps that loop allocated:
/// stopping the context still works on it, and it is freed only once
/// nothing is attached (or, if closes are still pending on a loop nobody
/// runs any more, never).
pub fn owner_dropped_while_attached<W: Watchers>(
    attach_and_drop_owner: impl FnOnce(Context) -> Attached<W>,
) {
    let live = live_loops;
    let before = live();
    let fired = Rc::new(Cell::new(false));
    let lws = attach_and_drop_owner(stopping_context(&fired));
    assert_eq!(live(), before + 1, "the attachment keeps its loop");
    assert_eq!(
        lws.with_context(Context::stop),
        Some(()),
        "context reachable"
    );
    let detached = lws.is_detached();
    drop(lws);
    let expect = if detached { before } else { before + 1 };
    assert_eq!(
        live(),
        expect,
        "freed once nothing is attached, never before"
    );
}

/// The foreign runner: serve `ctx` from the host's loop until it stopped,
/// then check that the loop holds what it held before (`held`: a count of
/// the host loop's sources) and that the host's own repeating timer
/// (`ticks`) still fires. `run_once` is one host iteration.
pub fn serve_in_host<W: Watchers>(
    ctx: Context,
    host: Host<'_, W::Owner>,
    ticks: &Cell<u64>,
    run_once: impl Fn(),
    held: impl Fn() -> usize,
) -> Context {
    // Let the host's timer arm (an sd-event timerfd is made lazily).
    while ticks.get() < 1 {
        run_once();
    }
    let baseline = held();
    let back: Rc<RefCell<Option<Context>>> = Rc::default();
    let b = back.clone();
    let lws = Attached::<W>::attach(ctx, host, move |c| *b.borrow_mut() = Some(c))
        .unwrap_or_else(|e| panic!("attach: {e}"));
    while back.borrow().is_none() {
        run_once();
    }
    assert!(lws.is_detached());
    let t = ticks.get();
    while ticks.get() < t + 3 {
        run_once();
    }
    assert_eq!(
        held(),
        baseline,
        "the library left nothing on the host loop"
    );
    let ctx = back.borrow_mut().take();
    ctx.unwrap_or_else(|| panic!("context back"))
}

/// The host-loop checks of one C loop as `#[test]`s: `make` builds the
/// host's loop, `tick` starts a 1 ms repeating timer of the host's on it,
/// `run_once` runs one iteration. The checks take turns (`TURN`), as
/// uloop is process-global.
#[macro_export]
macro_rules! host_loop_checks {
    (watchers: $w:ty, make: $make:expr, tick: $tick:expr, run_once: $run:expr $(,)?) => {
        static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

        #[test]
        fn nested_host_iteration_loses_no_event() {
            let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
            let host = $make;
            let _tick = $tick(&host);
            $crate::host_loop::nested_host_iteration::<$w>(host.host(), || $run(&host));
        }

        #[test]
        fn owner_dropped_while_attached_keeps_the_loop() {
            let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
            $crate::host_loop::owner_dropped_while_attached(|ctx| {
                let host = $make;
                $crate::cglue::Attached::<$w>::attach(ctx, host.host(), |_| {})
                    .unwrap_or_else(|e| panic!("attach: {e}"))
            });
        }
    };
}

/// The shared suite served from a host's loop (`tests/conformance_foreign.rs`
/// of a C loop): `make` builds the host's loop, `tick` starts a 5 ms
/// repeating timer of the host's (returning its tick count), `run_once`
/// runs one iteration and `held` counts the loop's sources.
#[macro_export]
macro_rules! host_loop_suite {
    (watchers: $w:ty, make: $make:expr, tick: $tick:expr, run_once: $run:expr, held: $held:expr $(,)?) => {
        fn host_runs(ctx: $crate::cglue::Context) -> $crate::cglue::Context {
            let host = $make;
            let ticks = $tick(&host);
            $crate::host_loop::serve_in_host::<$w>(
                ctx,
                host.host(),
                &ticks,
                || $run(&host),
                || $held(&host),
            )
        }

        $crate::event_lib_suite!(host_runs);
    };
}
