//! Host-side guarantees on libuv: re-entrant host iterations lose nothing,
//! and an attachment keeps its loop allocated after the owner is dropped.

use lws_loop_libuv::{UvHostLoop, UvWatchers};

lws_conformance::host_loop_checks!(
    watchers: UvWatchers,
    make: UvHostLoop::create().expect("uv loop"),
    tick: |h: &UvHostLoop| h.repeating_timer(1),
    run_once: |h: &UvHostLoop| h.run_once(),
);
