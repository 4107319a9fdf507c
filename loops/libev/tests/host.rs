//! Host-side guarantees on libev: re-entrant host iterations lose nothing,
//! and an attachment keeps its loop allocated after the owner is dropped.

use lws_conformance::reentry;
use lws_loop_libev::{EvAttached, EvHostLoop, EvWatchers};

#[test]
fn nested_host_iteration_loses_no_event() {
    let host = EvHostLoop::create().expect("ev loop");
    let _tick = host.repeating_timer(1);
    reentry::nested_host_iteration::<EvWatchers>(host.host(), || host.run_once());
}

#[test]
fn owner_dropped_while_attached_keeps_the_loop() {
    reentry::owner_dropped_while_attached(
        |ctx| {
            let host = EvHostLoop::create().expect("ev loop");
            EvAttached::attach(ctx, host.host(), |_| {}).expect("attach")
        },
        lws_loop_libev::EvLoopBox::live_loops,
    );
}
