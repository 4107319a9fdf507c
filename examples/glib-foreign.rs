//! A GLib host: its own `MainContext` and `MainLoop` with a timeout source
//! of its own, into which the library is adopted to serve HTTP and
//! WebSocket and to run its own HTTP and WebSocket clients against that
//! server. When the library is done it removes its sources and hands the
//! context back; the host's timer keeps ticking and the host quits its
//! loop itself.
//!
//!     cargo run --example glib-foreign --features loop-glib

mod common;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use lws::Context;
use lws::glib::GlibAttached;
use lws::glib::glib::{self, ControlFlow, MainContext, MainLoop};

fn main() {
    common::init_logging();
    let (ctx, report, addr) = common::web_demo::build();

    // The host: a non-default MainContext with a 10 ms timer of its own.
    let main = MainContext::new();
    let _owner = main.acquire().unwrap_or_else(|e| common::die("acquire", e));
    let main_loop = MainLoop::new(Some(&main), false);
    let ticks = Rc::new(Cell::new(0u32));
    let t = glib::thread_guard::ThreadGuard::new(ticks.clone());
    let timer = glib::timeout_source_new(
        Duration::from_millis(10),
        None,
        glib::Priority::DEFAULT,
        move || {
            t.get_ref().set(t.get_ref().get() + 1);
            ControlFlow::Continue
        },
    );
    timer.attach(Some(&main));

    let back: Rc<RefCell<Option<Context>>> = Rc::default();
    let b = back.clone();
    let lws = GlibAttached::attach(ctx, &main, move |c| *b.borrow_mut() = Some(c));
    println!(
        "listening on http://{addr}/ (sources on the host's MainContext: {})",
        lws.sources()
    );
    while back.borrow().is_none() {
        main.iteration(true);
    }
    let during = ticks.get();
    let ok = common::web_demo::print(&report);
    println!(
        "library stopped; its sources left on the host context: {}",
        lws.sources()
    );

    // The host loop goes on without the library: 5 more ticks, then quit.
    let after = ticks.get();
    let ml = main_loop.clone();
    let t = glib::thread_guard::ThreadGuard::new(ticks.clone());
    let quit = glib::timeout_source_new(
        Duration::from_millis(5),
        None,
        glib::Priority::DEFAULT,
        move || {
            if t.get_ref().get() >= after + 5 {
                ml.quit();
                return ControlFlow::Break;
            }
            ControlFlow::Continue
        },
    );
    quit.attach(Some(&main));
    main_loop.run();
    println!(
        "host timer: {during} ticks while the library ran, {} after it left",
        ticks.get() - after
    );
    timer.destroy();
    let clean = lws.sources() == 0 && ticks.get() >= after + 5;
    std::process::exit(i32::from(!(ok && clean)));
}
