//! Host-side guarantees on libuv: re-entrant host iterations lose nothing,
//! and an attachment keeps its loop allocated after the owner is dropped.

use lws_conformance::reentry;
use lws_loop_libuv::{UvAttached, UvHostLoop, UvWatchers};

#[test]
fn nested_host_iteration_loses_no_event() {
    let host = UvHostLoop::create().expect("uv loop");
    let _tick = host.repeating_timer(1);
    reentry::nested_host_iteration::<UvWatchers>(host.host(), || host.run_once());
}

#[test]
fn owner_dropped_while_attached_keeps_the_loop() {
    reentry::owner_dropped_while_attached(
        |ctx| {
            let host = UvHostLoop::create().expect("uv loop");
            UvAttached::attach(ctx, host.host(), |_| {}).expect("attach")
        },
        lws_loop_libuv::UvLoopBox::live_loops,
    );
}
