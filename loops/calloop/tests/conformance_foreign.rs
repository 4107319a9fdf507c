//! The shared conformance suite inside a host's calloop `EventLoop` that
//! also runs a timer of its own, which must keep firing while the library
//! runs and after it is gone; afterwards the loop's epoll set holds only
//! what it held before the library was inserted.

use std::os::fd::{AsFd, AsRawFd};
use std::time::Duration;

use calloop::EventLoop;
use calloop::timer::{TimeoutAction, Timer};
use lws_core::Context;
use lws_loop_calloop::{LwsEvent, LwsSource};

#[derive(Default)]
struct Host {
    ctx: Option<Box<Context>>,
    ticks: u32,
}

fn host_runs(ctx: Context) -> Context {
    let mut event_loop: EventLoop<'static, Host> = EventLoop::try_new().expect("host loop");
    let handle = event_loop.handle();
    handle
        .insert_source(
            Timer::from_duration(Duration::from_millis(5)),
            |_, _, host: &mut Host| {
                host.ticks += 1;
                TimeoutAction::ToDuration(Duration::from_millis(5))
            },
        )
        .expect("host timer");
    // Let the host's timer register before taking the baseline.
    event_loop
        .dispatch(Duration::ZERO, &mut Host::default())
        .expect("dispatch");
    let epfd = event_loop.as_fd().as_raw_fd();
    let baseline = lws_conformance::epoll_registered(epfd);
    handle
        .insert_source(
            LwsSource::new(ctx).expect("source"),
            |ev, _, host: &mut Host| {
                if let LwsEvent::Stopped(c) = ev {
                    host.ctx = c;
                }
            },
        )
        .expect("insert lws");
    let mut host = Host::default();
    while host.ctx.is_none() {
        event_loop.dispatch(None, &mut host).expect("dispatch");
    }
    // The host loop outlives the library: its own timer still fires.
    let ticks = host.ticks;
    event_loop
        .dispatch(Duration::from_millis(50), &mut host)
        .expect("dispatch after");
    assert!(
        host.ticks > ticks,
        "host timer still fires after the library left"
    );
    assert_eq!(
        lws_conformance::epoll_registered(epfd),
        baseline,
        "the library's descriptor left the host's epoll set"
    );
    *host.ctx.take().expect("context back")
}

lws_conformance::event_lib_suite!(host_runs);
