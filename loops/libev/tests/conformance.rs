//! The shared conformance suite on libev, owned mode.
lws_conformance::event_lib_suite!(lws_conformance::owned(
    || lws_loop_libev::EvLoop::new().expect("ev loop")
));
