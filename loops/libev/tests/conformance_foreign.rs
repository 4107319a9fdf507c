//! The shared conformance suite inside a host's libev loop with a
//! repeating timer of its own (which does not hold the loop); afterwards
//! no watcher of the library's is active on the loop, and the host's timer
//! still fires.

use lws_loop_libev::{EvHostLoop, EvWatchers};

lws_conformance::host_loop_suite!(
    watchers: EvWatchers,
    make: EvHostLoop::create().expect("host loop"),
    tick: |h: &EvHostLoop| h.repeating_timer(5),
    run_once: |h: &EvHostLoop| h.run_once(),
    held: |h: &EvHostLoop| usize::from(h.has_active_watchers()),
);
