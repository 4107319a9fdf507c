//! The shared conformance suite as a task on a host executor
//! (futures-lite's `block_on` over async-io) next to a host task with a
//! timer of its own. The host keeps ticking after the library's task has
//! resolved, and the library holds no reactor registration any more.

use std::cell::Cell;
use std::time::Duration;

use async_io::Timer;
use futures_lite::{StreamExt, future};
use lws_core::Context;
use lws_loop_async_io::{Footprint, serve_with};

fn host_runs(mut ctx: Context) -> Context {
    let fp = Footprint::new();
    let ticks = Cell::new(0u32);
    let host_timer = async {
        let mut every = Timer::interval(Duration::from_millis(5));
        loop {
            every.next().await;
            ticks.set(ticks.get() + 1);
        }
    };
    // `or` polls both; the host's timer task never finishes, so this
    // resolves when the library's task has finished and the host has seen
    // its own timer fire three more times.
    future::block_on(future::or(host_timer, async {
        serve_with(&mut ctx, &fp).await.expect("lws task");
        assert_eq!(
            fp.registrations(),
            0,
            "the finished task left nothing in the reactor"
        );
        let t = ticks.get();
        while ticks.get() < t + 3 {
            Timer::after(Duration::from_millis(1)).await;
        }
    }));
    ctx
}

lws_conformance::event_lib_suite!(host_runs);
