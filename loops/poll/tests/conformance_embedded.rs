//! The shared conformance suite with the native loop embedded in a host
//! loop that only polls the library's single epoll descriptor (here a plain
//! `poll(2)` with no timeout: timers arrive through the embedded timerfd).

use std::time::Duration;

use lws_core::Context;
use lws_loop_poll::PollLoop;
use rustix::event::{PollFd, PollFlags, poll};

fn host_runs(mut ctx: Context) -> Context {
    let mut lws = PollLoop::embedded().expect("embedded loop");
    lws.turn(&mut ctx, Some(Duration::ZERO))
        .expect("first turn");
    while !ctx.is_stopped() {
        let mut fds = [PollFd::new(&lws, PollFlags::IN)];
        poll(&mut fds, None).expect("host poll");
        lws.turn(&mut ctx, Some(Duration::ZERO)).expect("turn");
    }
    ctx
}

lws_conformance::event_lib_suite!(host_runs);
