//! The shared conformance suite inside a host's GLib `MainContext` that
//! runs a timeout source of its own; after the library stops, the host
//! context still runs its source and holds no library source.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use glib::{ControlFlow, MainContext, Priority};
use lws_core::Context;
use lws_loop_glib::GlibAttached;

fn host_runs(ctx: Context) -> Context {
    let main = MainContext::new();
    let _owner = main.acquire().expect("acquire host context");
    let ticks = Rc::new(Cell::new(0u32));
    let t = glib::thread_guard::ThreadGuard::new(ticks.clone());
    let host_timer = glib::timeout_source_new(
        Duration::from_millis(5),
        None,
        Priority::DEFAULT,
        move || {
            t.get_ref().set(t.get_ref().get() + 1);
            ControlFlow::Continue
        },
    );
    host_timer.attach(Some(&main));
    let back: Rc<RefCell<Option<Context>>> = Rc::default();
    let b = back.clone();
    let lws = GlibAttached::attach(ctx, &main, move |c| *b.borrow_mut() = Some(c));
    assert!(lws.sources() > 0);
    while back.borrow().is_none() {
        main.iteration(true);
    }
    assert_eq!(
        lws.sources(),
        0,
        "stopped library left sources on the host context"
    );
    let before = ticks.get();
    let until = std::time::Instant::now() + Duration::from_millis(50);
    while std::time::Instant::now() < until {
        main.iteration(true);
    }
    assert!(
        ticks.get() > before,
        "host timer still fires after the library left"
    );
    host_timer.destroy();
    drop(lws);
    back.borrow_mut().take().expect("context back")
}

lws_conformance::event_lib_suite!(host_runs);
