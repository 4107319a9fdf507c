//! The shared conformance suite with the host owning the `Poller`.
//! Afterwards the host's epoll set holds only what it held before the
//! library attached (the poller's own notifier), and the host's
//! `notify` still wakes its `wait`.

use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lws_core::Context;
use lws_loop_polling::PollingAttached;
use polling::{Events, Poller};

fn host_runs(mut ctx: Context) -> Context {
    let poller = Arc::new(Poller::new().expect("host poller"));
    let baseline = lws_conformance::epoll_registered(poller.as_raw_fd());
    let mut lws = PollingAttached::attach(&mut ctx, poller.clone());
    let mut events = Events::new();
    while !ctx.is_stopped() {
        events.clear();
        poller
            .wait(&mut events, lws.timeout(&ctx))
            .expect("host wait");
        for ev in events.iter() {
            if PollingAttached::owns(&ev) {
                lws.handle(&mut ctx, &ev);
            }
        }
        lws.after_poll(&mut ctx);
    }
    assert_eq!(
        lws.registered(),
        0,
        "a stopped context leaves nothing registered"
    );
    lws.detach(&mut ctx);
    assert_eq!(
        lws_conformance::epoll_registered(poller.as_raw_fd()),
        baseline,
        "only the host's own source remains in its epoll set"
    );
    poller.notify().expect("host notify");
    let t0 = Instant::now();
    events.clear();
    poller
        .wait(&mut events, Some(Duration::from_secs(5)))
        .expect("host wait after");
    assert!(
        t0.elapsed() < Duration::from_secs(4),
        "the host's own notifier still wakes its wait"
    );
    ctx
}

lws_conformance::event_lib_suite!(host_runs);
