//! The shared conformance suite on mio, owned mode.
lws_conformance::event_lib_suite!(lws_conformance::owned(
    || lws_loop_mio::MioLoop::new().expect("mio")
));
