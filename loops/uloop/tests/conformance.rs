//! The shared conformance suite on uloop, owned mode. uloop is
//! process-global, so the scenarios of this binary take turns.

use std::sync::Mutex;

use lws_core::Context;

static TURN: Mutex<()> = Mutex::new(());

fn owned(ctx: Context) -> Context {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    lws_conformance::owned(|| lws_loop_uloop::UloopLoop::new().expect("uloop"))(ctx)
}

lws_conformance::event_lib_suite!(owned);
