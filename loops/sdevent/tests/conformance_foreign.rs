//! The shared conformance suite inside a host's sd-event loop with a
//! repeating timer of its own; afterwards the loop's epoll set holds only
//! what it held before the library attached, and the host timer still
//! fires.

use std::cell::RefCell;
use std::rc::Rc;

use lws_core::Context;
use lws_loop_sdevent::{SdAttached, SdHostEvent};

fn host_runs(ctx: Context) -> Context {
    let host = SdHostEvent::create().expect("host loop");
    let ticks = host.repeating_timer(5);
    // Let the host's timer arm its timerfd before the baseline.
    while ticks.get() < 1 {
        host.run_once(true).expect("run");
    }
    let baseline = host.registered_fds().expect("fdinfo");
    let back: Rc<RefCell<Option<Context>>> = Rc::default();
    let b = back.clone();
    let lws =
        SdAttached::attach(ctx, host.host(), move |c| *b.borrow_mut() = Some(c)).expect("attach");
    while back.borrow().is_none() {
        host.run_once(true).expect("run");
    }
    assert!(lws.is_detached());
    let t = ticks.get();
    while ticks.get() < t + 3 {
        host.run_once(true).expect("run");
    }
    assert_eq!(
        host.registered_fds().expect("fdinfo"),
        baseline,
        "every library descriptor left the host's epoll set"
    );
    back.borrow_mut().take().expect("context back")
}

lws_conformance::event_lib_suite!(host_runs);
