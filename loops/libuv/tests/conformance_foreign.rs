//! The shared conformance suite inside a host's libuv loop that runs a
//! repeating timer of its own. After the library stops, only the host's
//! timer is left on the loop, and it still fires.

use lws_loop_libuv::{UvHostLoop, UvWatchers};

lws_conformance::host_loop_suite!(
    watchers: UvWatchers,
    make: UvHostLoop::create().expect("host loop"),
    tick: |h: &UvHostLoop| h.repeating_timer(5),
    run_once: |h: &UvHostLoop| h.run_once(),
    held: |h: &UvHostLoop| h.handles(),
);
