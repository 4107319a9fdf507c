//! Host-side guarantees on sd-event: re-entrant host iterations lose
//! nothing, and an attachment keeps its loop allocated after the owner is
//! dropped.

use lws_loop_sdevent::{SdHostEvent, SdWatchers};

lws_conformance::host_loop_checks!(
    watchers: SdWatchers,
    make: SdHostEvent::create().expect("sd_event"),
    tick: |h: &SdHostEvent| h.repeating_timer(1),
    run_once: |h: &SdHostEvent| assert!(h.run_once(true).is_ok(), "sd_event_run"),
);
