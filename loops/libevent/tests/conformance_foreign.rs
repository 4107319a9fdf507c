//! The shared conformance suite inside a host's libevent base that runs a
//! repeating timer of its own. After the library stops, only the host's
//! event is left on the base, and it still fires.

use std::cell::RefCell;
use std::rc::Rc;

use lws_core::Context;
use lws_loop_libevent::{EvAttached, EvHostBase};

fn host_runs(ctx: Context) -> Context {
    let host = EvHostBase::create().expect("host base");
    let ticks = host.repeating_timer(5);
    let before = host.events();
    let back: Rc<RefCell<Option<Context>>> = Rc::default();
    let b = back.clone();
    let lws =
        EvAttached::attach(ctx, host.host(), move |c| *b.borrow_mut() = Some(c)).expect("attach");
    while back.borrow().is_none() {
        host.run_once();
    }
    assert!(lws.is_detached());
    assert_eq!(
        host.events(),
        before,
        "every library event removed; the host's timer remains"
    );
    let t = ticks.get();
    while ticks.get() < t + 3 {
        host.run_once();
    }
    back.borrow_mut().take().expect("context back")
}

lws_conformance::event_lib_suite!(host_runs);
