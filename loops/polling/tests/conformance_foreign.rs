//! The shared conformance suite with the host owning the `Poller`.

use std::sync::Arc;

use lws_core::Context;
use lws_loop_polling::PollingAttached;
use polling::{Events, Poller};

fn host_runs(mut ctx: Context) -> Context {
    let poller = Arc::new(Poller::new().expect("host poller"));
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
    ctx
}

lws_conformance::event_lib_suite!(host_runs);
