//! Host-side guarantees on libevent: re-entrant host iterations lose
//! nothing, and an attachment keeps its base allocated after the owner is
//! dropped.

use lws_loop_libevent::{EvHostBase, EvWatchers};

lws_conformance::host_loop_checks!(
    watchers: EvWatchers,
    make: EvHostBase::create().expect("event base"),
    tick: |h: &EvHostBase| h.repeating_timer(1),
    run_once: |h: &EvHostBase| h.run_once(),
);
