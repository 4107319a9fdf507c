//! The shared conformance suite inside uloop run by the host (this test),
//! with a repeating timeout of its own. Afterwards uloop's epoll set holds
//! only what it held before the library attached, and the host's timeout
//! still fires. uloop is process-global, so the scenarios take turns.

use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;
use std::sync::Mutex;

use lws_core::Context;
use lws_loop_uloop::{HostTimer, UloopAttached, UloopHost};

static TURN: Mutex<()> = Mutex::new(());

/// The process's epoll descriptors.
fn epolls() -> HashSet<i32> {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .flatten()
        .filter(|e| {
            std::fs::read_link(e.path()).is_ok_and(|l| l.to_string_lossy().contains("eventpoll"))
        })
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect()
}

fn host_runs(ctx: Context) -> Context {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let before = epolls();
    let host = UloopHost::init().expect("uloop_init");
    let uloop_epoll = *epolls()
        .difference(&before)
        .next()
        .expect("uloop's epoll descriptor");
    let (timer, ticks) = HostTimer::every(&host, 5);
    let baseline = lws_conformance::epoll_registered(uloop_epoll);
    let back: Rc<RefCell<Option<Context>>> = Rc::default();
    let b = back.clone();
    let lws = UloopAttached::attach(ctx, host.host(), move |c| *b.borrow_mut() = Some(c))
        .expect("attach");
    while back.borrow().is_none() {
        host.run_once(1000);
    }
    assert!(lws.is_detached());
    assert_eq!(
        lws_conformance::epoll_registered(uloop_epoll),
        baseline,
        "every library descriptor left uloop's epoll set"
    );
    let t = ticks.get();
    while ticks.get() < t + 3 {
        host.run_once(1000);
    }
    drop((timer, lws, host));
    back.borrow_mut().take().expect("context back")
}

lws_conformance::event_lib_suite!(host_runs);
