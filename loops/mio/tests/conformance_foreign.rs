//! The shared conformance suite on mio in foreign mode: the host owns the
//! `mio::Poll` and runs it; the library only registers with its registry.

use lws_core::Context;
use lws_loop_mio::MioAttached;
use mio::{Events, Poll};

fn host_runs(mut ctx: Context) -> Context {
    let mut poll = Poll::new().expect("host poll");
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
    ctx
}

lws_conformance::event_lib_suite!(host_runs);
