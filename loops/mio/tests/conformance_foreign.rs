//! The shared conformance suite on mio in foreign mode: the host owns the
//! `mio::Poll` and runs it, with a waker of its own; the library only
//! registers with its registry. Afterwards the host's epoll set holds only
//! the host's waker, which still wakes the host.

use std::os::fd::AsRawFd;

use lws_core::Context;
use lws_loop_mio::MioAttached;
use mio::{Events, Poll, Token, Waker};

const HOST_WAKER: Token = Token(7);

fn host_runs(mut ctx: Context) -> Context {
    let mut poll = Poll::new().expect("host poll");
    let waker = Waker::new(poll.registry(), HOST_WAKER).expect("host waker");
    let baseline = lws_conformance::epoll_registered(poll.as_raw_fd());
    let mut lws = MioAttached::attach(&mut ctx, poll.registry()).expect("attach");
    let mut events = Events::with_capacity(256);
    while !ctx.is_stopped() {
        poll.poll(&mut events, lws.timeout(&ctx))
            .expect("host poll");
        for ev in events.iter() {
            if MioAttached::owns(ev.token()) {
                lws.handle(&mut ctx, ev);
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
        lws_conformance::epoll_registered(poll.as_raw_fd()),
        baseline,
        "only the host's own registrations remain in its epoll set"
    );
    waker.wake().expect("wake host");
    poll.poll(&mut events, Some(std::time::Duration::from_secs(5)))
        .expect("host poll after");
    assert!(
        events.iter().any(|e| e.token() == HOST_WAKER),
        "the host's own source still fires"
    );
    ctx
}

lws_conformance::event_lib_suite!(host_runs);
