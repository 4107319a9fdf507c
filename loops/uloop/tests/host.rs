//! Host-side guarantees on uloop: re-entrant host iterations lose nothing,
//! an attachment keeps uloop initialised after the host's holder is
//! dropped, and an owned loop cannot take uloop from a host.

use lws_loop_uloop::{HostTimer, UloopHost, UloopLoop, UloopWatchers};

lws_conformance::host_loop_checks!(
    watchers: UloopWatchers,
    make: UloopHost::init().expect("uloop_init"),
    tick: |h: &UloopHost| HostTimer::every(h, 1),
    run_once: |h: &UloopHost| h.run_once(1000),
);

#[test]
fn owned_loop_refused_while_a_host_holds_uloop() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let _host = UloopHost::init().expect("uloop_init");
    assert!(UloopLoop::new().is_err(), "uloop is in use by this host");
}
