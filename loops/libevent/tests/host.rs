//! Host-side guarantees on libevent: re-entrant host iterations lose
//! nothing, and an attachment keeps its base allocated after the owner is
//! dropped.

use lws_conformance::reentry;
use lws_loop_libevent::{EvAttached, EvHostBase, EvWatchers};

#[test]
fn nested_host_iteration_loses_no_event() {
    let host = EvHostBase::create().expect("event base");
    let _tick = host.repeating_timer(1);
    reentry::nested_host_iteration::<EvWatchers>(host.host(), || host.run_once());
}

#[test]
fn owner_dropped_while_attached_keeps_the_base() {
    reentry::owner_dropped_while_attached(
        |ctx| {
            let host = EvHostBase::create().expect("event base");
            EvAttached::attach(ctx, host.host(), |_| {}).expect("attach")
        },
        lws_loop_libevent::EvBaseBox::live_bases,
    );
}
