//! The shared conformance suite inside a host's sd-event loop with a
//! repeating timer of its own; afterwards the loop's epoll set holds only
//! what it held before the library attached, and the host timer still
//! fires.

use lws_loop_sdevent::{SdHostEvent, SdWatchers};

fn host_runs(ctx: lws_core::Context) -> lws_core::Context {
    let host = SdHostEvent::create().expect("host loop");
    let ticks = host.repeating_timer(5);
    let run_once = || assert!(host.run_once(true).is_ok(), "sd_event_run");
    let held = || host.registered_fds().expect("fdinfo");
    lws_conformance::host_loop::serve_in_host::<SdWatchers>(
        ctx,
        host.host(),
        &ticks,
        run_once,
        held,
    )
}

lws_conformance::event_lib_suite!(host_runs);
