//! Host-side guarantees on libev: re-entrant host iterations lose nothing,
//! and an attachment keeps its loop allocated after the owner is dropped.

use lws_loop_libev::{EvHostLoop, EvWatchers};

lws_conformance::host_loop_checks!(
    watchers: EvWatchers,
    make: EvHostLoop::create().expect("ev loop"),
    tick: |h: &EvHostLoop| h.repeating_timer(1),
    run_once: |h: &EvHostLoop| h.run_once(),
);
