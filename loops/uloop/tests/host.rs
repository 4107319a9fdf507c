//! Host-side guarantees on uloop: re-entrant host iterations lose nothing,
//! and an attachment keeps uloop initialised after the host's holder is
//! dropped. uloop is process-global, so the tests take turns.

use std::sync::Mutex;

use lws_conformance::reentry;
use lws_loop_uloop::{HostTimer, UloopAttached, UloopHost, UloopWatchers};

static TURN: Mutex<()> = Mutex::new(());

#[test]
fn nested_host_iteration_loses_no_event() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let host = UloopHost::init().expect("uloop_init");
    let _tick = HostTimer::every(&host, 1);
    reentry::nested_host_iteration::<UloopWatchers>(host.host(), || host.run_once(1000));
}

#[test]
fn holder_dropped_while_attached_keeps_uloop() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    reentry::owner_dropped_while_attached(
        |ctx| {
            let host = UloopHost::init().expect("uloop_init");
            UloopAttached::attach(ctx, host.host(), |_| {}).expect("attach")
        },
        lws_loop_uloop::UloopInit::live,
    );
}

#[test]
fn owned_run_refused_while_a_host_holds_uloop() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let _host = UloopHost::init().expect("uloop_init");
    let owned = lws_loop_uloop::UloopLoop::new();
    assert!(owned.is_err(), "uloop is in use by this thread's host");
}
