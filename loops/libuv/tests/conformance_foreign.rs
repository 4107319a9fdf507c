//! The shared conformance suite inside a host's libuv loop that runs a
//! repeating timer of its own. After the library stops, only the host's
//! timer is left on the loop, and it still fires.

use std::cell::RefCell;
use std::rc::Rc;

use lws_core::Context;
use lws_loop_libuv::{UvAttached, UvHostLoop};

fn host_runs(ctx: Context) -> Context {
    let host = UvHostLoop::create().expect("host loop");
    let ticks = host.repeating_timer(5);
    let handles_before = host.handles();
    let back: Rc<RefCell<Option<Context>>> = Rc::default();
    let b = back.clone();
    let lws =
        UvAttached::attach(ctx, host.host(), move |c| *b.borrow_mut() = Some(c)).expect("attach");
    assert!(host.handles() > handles_before, "library handles added");
    while back.borrow().is_none() {
        host.run_once();
    }
    assert!(lws.is_detached());
    assert_eq!(
        host.handles(),
        handles_before,
        "every library handle closed; the host's timer remains"
    );
    let t = ticks.get();
    while ticks.get() < t + 3 {
        host.run_once();
    }
    back.borrow_mut().take().expect("context back")
}

lws_conformance::event_lib_suite!(host_runs);
