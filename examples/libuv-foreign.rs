//! A libuv host: its own `uv_loop_t` with a repeating timer of its own,
//! into which the library is adopted to serve HTTP and WebSocket and to
//! run its own HTTP and WebSocket clients against that server. When the
//! library is done, its last handle-close callback hands the context back;
//! the host's timer keeps firing on the same loop.
//!
//!     cargo run --example libuv-foreign --features loop-libuv
//!
//! A C host passes its own loop with `lws::libuv::host_from_raw(uv_loop_t *)`.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use lws::Context;
use lws::libuv::{UvAttached, UvHostLoop};

fn main() {
    common::init_logging();
    let (ctx, report, addr) = common::web_demo::build();

    let host = UvHostLoop::create().unwrap_or_else(|e| common::die("uv loop", e));
    let ticks = host.repeating_timer(10);
    let before = host.handles();

    let back: Rc<RefCell<Option<Context>>> = Rc::default();
    let b = back.clone();
    let lws = UvAttached::attach(ctx, host.host(), move |c| *b.borrow_mut() = Some(c))
        .unwrap_or_else(|e| common::die("attach", e));
    println!(
        "listening on http://{addr}/ (handles on the host loop: {} host + {} library)",
        before,
        host.handles() - before
    );
    while back.borrow().is_none() {
        host.run_once();
    }
    let ok = common::web_demo::print(&report);
    let left = host.handles() - before;
    println!(
        "library stopped (detached: {}); its handles left on the host loop: {left}",
        lws.is_detached()
    );

    let after = ticks.get();
    while ticks.get() < after + 5 {
        host.run_once();
    }
    println!(
        "host timer: fired {} more times after the library left",
        ticks.get() - after
    );
    std::process::exit(i32::from(!(ok && left == 0 && lws.is_detached())));
}
