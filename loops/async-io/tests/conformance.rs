//! The shared conformance suite on async-io, owned mode (`block_on`).
lws_conformance::event_lib_suite!(lws_conformance::owned(lws_loop_async_io::AsyncIoLoop::new));
