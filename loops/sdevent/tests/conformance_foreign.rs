//! The shared conformance suite inside a host's sd-event loop with a
//! repeating timer of its own; afterwards the loop's epoll set holds only
//! what it held before the library attached, and the host timer still
//! fires.

use lws_loop_sdevent::{SdHostEvent, SdWatchers};

lws_conformance::host_loop_suite!(
    watchers: SdWatchers,
    make: SdHostEvent::create().expect("host loop"),
    tick: |h: &SdHostEvent| h.repeating_timer(5),
    run_once: |h: &SdHostEvent| assert!(h.run_once(true).is_ok(), "sd_event_run"),
    held: |h: &SdHostEvent| h.registered_fds().expect("fdinfo"),
);
