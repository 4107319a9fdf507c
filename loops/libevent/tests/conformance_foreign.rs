//! The shared conformance suite inside a host's libevent base that runs a
//! repeating timer of its own. After the library stops, only the host's
//! event is left on the base, and it still fires.

use lws_loop_libevent::{EvHostBase, EvWatchers};

fn host_runs(ctx: lws_core::Context) -> lws_core::Context {
    let host = EvHostBase::create().expect("host base");
    let ticks = host.repeating_timer(5);
    let run_once = || host.run_once();
    let held = || host.events();
    lws_conformance::host_loop::serve_in_host::<EvWatchers>(
        ctx,
        host.host(),
        &ticks,
        run_once,
        held,
    )
}

lws_conformance::event_lib_suite!(host_runs);
