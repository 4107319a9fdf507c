//! The shared conformance suite inside a host's libevent base that runs a
//! repeating timer of its own. After the library stops, only the host's
//! event is left on the base, and it still fires.

use lws_loop_libevent::{EvHostBase, EvWatchers};

lws_conformance::host_loop_suite!(
    watchers: EvWatchers,
    make: EvHostBase::create().expect("host base"),
    tick: |h: &EvHostBase| h.repeating_timer(5),
    run_once: |h: &EvHostBase| h.run_once(),
    held: |h: &EvHostBase| h.events(),
);
