//! Host-side guarantees on sd-event: re-entrant host iterations lose
//! nothing, and an attachment keeps its loop allocated after the owner is
//! dropped.

use lws_conformance::reentry;
use lws_loop_sdevent::{SdAttached, SdHostEvent, SdWatchers};

#[test]
fn nested_host_iteration_loses_no_event() {
    let host = SdHostEvent::create().expect("sd_event");
    let _tick = host.repeating_timer(1);
    reentry::nested_host_iteration::<SdWatchers>(host.host(), || {
        host.run_once(true).expect("sd_event_run");
    });
}

#[test]
fn owner_dropped_while_attached_keeps_the_loop() {
    reentry::owner_dropped_while_attached(
        |ctx| {
            let host = SdHostEvent::create().expect("sd_event");
            SdAttached::attach(ctx, host.host(), |_| {}).expect("attach")
        },
        lws_loop_sdevent::SdEventBox::live_loops,
    );
}
