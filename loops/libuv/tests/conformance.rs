//! The shared conformance suite on libuv, owned mode.
lws_conformance::event_lib_suite!(lws_conformance::owned(
    || lws_loop_libuv::UvLoop::new().expect("uv loop")
));
