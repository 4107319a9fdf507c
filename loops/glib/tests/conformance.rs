//! The shared conformance suite on GLib, owned mode (a private MainContext).
lws_conformance::event_lib_suite!(lws_conformance::owned(lws_loop_glib::GlibLoop::new));
