//! The shared conformance suite inside a host's libev loop with a
//! repeating timer of its own; afterwards only the host's watcher is
//! active on the loop, and it still fires.

use std::cell::RefCell;
use std::rc::Rc;

use lws_core::Context;
use lws_loop_libev::{EvAttached, EvHostLoop};

fn host_runs(ctx: Context) -> Context {
    let host = EvHostLoop::create().expect("host loop");
    let ticks = host.repeating_timer(5);
    assert!(
        !host.has_active_watchers(),
        "the host's own timer does not hold the loop"
    );
    let back: Rc<RefCell<Option<Context>>> = Rc::default();
    let b = back.clone();
    let lws =
        EvAttached::attach(ctx, host.host(), move |c| *b.borrow_mut() = Some(c)).expect("attach");
    while back.borrow().is_none() {
        host.run_once();
    }
    assert!(lws.is_detached());
    assert!(!host.has_active_watchers(), "every library watcher stopped");
    let t = ticks.get();
    while ticks.get() < t + 3 {
        host.run_once();
    }
    back.borrow_mut().take().expect("context back")
}

lws_conformance::event_lib_suite!(host_runs);
