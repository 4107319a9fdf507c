//! The shared conformance suite on calloop, owned mode.
lws_conformance::event_lib_suite!(lws_conformance::owned(lws_loop_calloop::CalloopLoop::new));
