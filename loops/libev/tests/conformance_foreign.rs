//! The shared conformance suite inside a host's libev loop with a
//! repeating timer of its own (which does not hold the loop); afterwards
//! no watcher of the library's is active on the loop, and the host's timer
//! still fires.

use lws_loop_libev::{EvHostLoop, EvWatchers};

fn host_runs(ctx: lws_core::Context) -> lws_core::Context {
    let host = EvHostLoop::create().expect("host loop");
    let ticks = host.repeating_timer(5);
    let run_once = || host.run_once();
    let held = || usize::from(host.has_active_watchers());
    lws_conformance::host_loop::serve_in_host::<EvWatchers>(
        ctx,
        host.host(),
        &ticks,
        run_once,
        held,
    )
}

lws_conformance::event_lib_suite!(host_runs);
