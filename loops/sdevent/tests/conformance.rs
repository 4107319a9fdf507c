//! The shared conformance suite on sd-event, owned mode.
lws_conformance::event_lib_suite!(lws_conformance::owned(
    || lws_loop_sdevent::SdLoop::new().expect("sd-event loop")
));
