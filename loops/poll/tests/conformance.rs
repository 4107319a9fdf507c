//! The shared conformance suite on the native loop, owned mode.
lws_conformance::event_lib_suite!(lws_conformance::owned(
    || lws_loop_poll::PollLoop::new().expect("epoll")
));
