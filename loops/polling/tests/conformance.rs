//! The shared conformance suite on the polling crate, owned mode.
lws_conformance::event_lib_suite!(lws_conformance::owned(|| {
    lws_loop_polling::PollingLoop::new().expect("poller")
}));
