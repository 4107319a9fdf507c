//! A calloop host: its own `EventLoop` with a timer of its own, into which
//! the library is inserted as one event source to serve HTTP and
//! WebSocket and to run its own HTTP and WebSocket clients against that
//! server. When the library is done the source removes itself and hands
//! the context back; the host's timer keeps firing.
//!
//!     cargo run --example calloop-foreign --features loop-calloop

mod common;

use std::time::Duration;

use lws::Context;
use lws::calloop::calloop::EventLoop;
use lws::calloop::calloop::timer::{TimeoutAction, Timer};
use lws::calloop::{LwsEvent, LwsSource};

#[derive(Default)]
struct Host {
    ctx: Option<Box<Context>>,
    ticks: u32,
}

fn main() {
    common::init_logging();
    let (ctx, report, addr) = common::web_demo::build();

    let mut event_loop: EventLoop<'static, Host> =
        EventLoop::try_new().unwrap_or_else(|e| common::die("calloop", e));
    let handle = event_loop.handle();
    handle
        .insert_source(
            Timer::from_duration(Duration::from_millis(10)),
            |_, _, host: &mut Host| {
                host.ticks += 1;
                TimeoutAction::ToDuration(Duration::from_millis(10))
            },
        )
        .unwrap_or_else(|e| common::die("host timer", e));
    let source = LwsSource::new(ctx).unwrap_or_else(|e| common::die("lws source", e));
    handle
        .insert_source(source, |ev, _, host: &mut Host| {
            if let LwsEvent::Stopped(c) = ev {
                host.ctx = c;
            }
        })
        .unwrap_or_else(|e| common::die("insert", e.error));
    println!("listening on http://{addr}/ (one source in the host's EventLoop)");

    let mut host = Host::default();
    while host.ctx.is_none() {
        event_loop
            .dispatch(None, &mut host)
            .unwrap_or_else(|e| common::die("dispatch", e));
    }
    let ok = common::web_demo::print(&report);
    println!("library stopped; its source removed itself");

    let after = host.ticks;
    while host.ticks < after + 5 {
        event_loop
            .dispatch(None, &mut host)
            .unwrap_or_else(|e| common::die("dispatch", e));
    }
    println!(
        "host timer: fired {} more times after the library left",
        host.ticks - after
    );
    std::process::exit(i32::from(!ok));
}
