//! The cross-thread waker: a blocked loop wakes, posted closures run on
//! the service thread, protocols see `ContextEvent::Wake`.

use std::sync::mpsc;
use std::thread::{self, ThreadId};
use std::time::Duration;

use lws_core::{ConnCx, ContextEvent, Cx};
use lws_role_raw::{RawEvent, RawHandler};

use crate::Runner;
use crate::peer::{self, Watchdog};

#[derive(Default)]
struct WakeCounter {
    wakes: usize,
    wake_threads: Vec<ThreadId>,
}

impl RawHandler for WakeCounter {
    type Session = ();

    fn on_event(&mut self, _: &mut ConnCx<'_>, _: &mut (), _: RawEvent<'_>) {}

    fn on_context_event(&mut self, cx: &mut Cx<'_>, ev: &ContextEvent) {
        if *ev == ContextEvent::Wake {
            self.wakes += 1;
            self.wake_threads.push(thread::current().id());
            // The post's wake, then the explicit one: done (stopping from
            // here, not after a delay on the poster's side).
            if self.wakes == 2 {
                cx.stop();
            }
        }
    }
}

pub fn from_thread(run: Runner<'_>) {
    // No idle timeout and no connections: nothing but the waker can wake
    // the loop before the 60 s guard timer.
    let (mut ctx, _) = peer::tcp_server_with(WakeCounter::default(), |v| v.idle_timeout(None));
    let remote = ctx.remote();
    let _dog = Watchdog::arm(remote.clone(), peer::SCENARIO_LIMIT);
    peer::guard_timer(&mut ctx);
    let (ran_tx, ran_rx) = mpsc::channel::<ThreadId>();
    let poster = thread::spawn(move || {
        thread::sleep(Duration::from_millis(200)); // let the loop block
        let tx = ran_tx.clone();
        remote.post(move |_cx| {
            let _ = tx.send(thread::current().id());
        });
        let service_thread = ran_rx
            .recv_timeout(Duration::from_secs(20))
            .expect("posted closure ran");
        remote.wake(); // the handler stops the context on this one
        (thread::current().id(), service_thread)
    });
    let mut ctx = run(ctx);
    let (poster_thread, service_thread) = poster.join().expect("poster");
    assert_ne!(
        poster_thread, service_thread,
        "closure ran on the service thread"
    );
    let h = peer::handler::<WakeCounter>(&mut ctx);
    assert!(h.wakes >= 2, "wake events delivered: {}", h.wakes);
    assert!(h.wake_threads.iter().all(|t| *t == service_thread));
}
