//! The shared conformance suite on libevent, owned mode.
lws_conformance::event_lib_suite!(lws_conformance::owned(
    || lws_loop_libevent::EvLoop::new().expect("event base")
));
