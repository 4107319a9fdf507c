//! The shared conformance suite inside a host's libuv loop that runs a
//! repeating timer of its own. After the library stops, only the host's
//! timer is left on the loop, and it still fires.

use lws_loop_libuv::{UvHostLoop, UvWatchers};

fn host_runs(ctx: lws_core::Context) -> lws_core::Context {
    let host = UvHostLoop::create().expect("host loop");
    let ticks = host.repeating_timer(5);
    let run_once = || host.run_once();
    let held = || host.handles();
    lws_conformance::host_loop::serve_in_host::<UvWatchers>(
        ctx,
        host.host(),
        &ticks,
        run_once,
        held,
    )
}

lws_conformance::event_lib_suite!(host_runs);
