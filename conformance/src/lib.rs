//! # lws-conformance: the same scenarios on every event loop
//!
//! Each scenario builds a [`Context`], hands it to a *runner* (a closure
//! that drives the context on one loop adapter, in owned or foreign mode,
//! until it stops) while real peers on loopback threads exercise it, then
//! asserts on what both sides saw. A loop crate runs the whole suite with
//! one line in its `tests/conformance.rs`:
//!
//! ```ignore
//! lws_conformance::event_lib_suite!(lws_conformance::owned(|| PollLoop::new().unwrap()));
//! ```
//!
//! Scenarios must stop by themselves: every one arms a watchdog that stops
//! the context (and so fails the assertions) if the peers hang.

pub mod host_loop;
pub mod peer;
#[doc(hidden)]
pub use lws_cglue as cglue;
pub mod scenarios;
#[cfg(feature = "tls")]
pub mod tls;

use lws_core::{Context, RunLoop};

/// Drives a context until it has stopped, on some loop.
pub type Runner<'a> = &'a mut dyn FnMut(Context) -> Context;

/// A runner for an owned loop: build the loop, run the context on it.
pub fn owned<L: RunLoop>(make: impl Fn() -> L) -> impl FnMut(Context) -> Context {
    move |mut ctx: Context| {
        let mut lib = make();
        if let Err(e) = lib.run(&mut ctx) {
            panic!("{} loop failed: {e}", lib.name());
        }
        ctx
    }
}

/// Expand the whole suite as `#[test]` functions for one runner.
#[macro_export]
macro_rules! event_lib_suite {
    ($runner:expr) => {
        $crate::event_lib_suite!(@tests $runner;
            raw_echo_1000_connections_100_messages => $crate::scenarios::echo::many_connections,
            raw_echo_unix_socket => $crate::scenarios::echo::unix_socket,
            timers_fire_in_deadline_order => $crate::scenarios::timers::deadline_order,
            connection_timers_and_timeouts => $crate::scenarios::timers::connection_timers,
            idle_peer_is_closed_after_idle_timeout => $crate::scenarios::timers::idle_timeout,
            close_inside_own_rx_callback => $crate::scenarios::close::inside_rx,
            close_other_connection_from_callback => $crate::scenarios::close::other_from_callback,
            stale_token_is_rejected => $crate::scenarios::close::stale_token,
            peer_reset_mid_write_closes_only_that_connection => $crate::scenarios::close::reset_mid_write,
            graceful_stop_flushes_and_closes => $crate::scenarios::close::graceful_stop,
            waker_wakes_from_another_thread => $crate::scenarios::waker::from_thread,
            adopt_with_read_buffer_sees_buffer_first => $crate::scenarios::adopt::read_buffer_first,
            adopt_udp_socket_echoes_datagrams => $crate::scenarios::adopt::udp,
            adopt_pipe_reads_until_eof => $crate::scenarios::adopt::pipe,
            writable_flow_control_one_event_per_request => $crate::scenarios::flow::one_writable_per_request,
            large_writes_are_buffered_in_order => $crate::scenarios::flow::large_writes_in_order,
            output_limit_refuses_excess => $crate::scenarios::flow::output_limit,
            client_connects_and_reports_errors => $crate::scenarios::client::connect_and_errors,
            client_connect_timeout => $crate::scenarios::client::connect_timeout,
            dns_resolve_then_connect_and_nxdomain => $crate::scenarios::dns::resolve_then_connect,
            dns_silent_resolver_times_out_others_served => $crate::scenarios::dns::silent_resolver_times_out,
            dns_next_address_after_refused => $crate::scenarios::dns::next_address_after_refused,
            dns_truncated_answer_over_tcp => $crate::scenarios::dns::truncated_answer_over_tcp,
            happy_eyeballs_blackholed_v6_loses_to_v4 => $crate::scenarios::eyeballs::blackholed_v6_loses_to_v4,
            happy_eyeballs_refused_v6_moves_on_at_once => $crate::scenarios::eyeballs::refused_v6_moves_on_at_once,
            http1_keepalive_50_connections => $crate::scenarios::web::http_keepalive,
            websocket_echo_50_connections => $crate::scenarios::web::websocket_echo,
            http2_20_connections_20_streams => $crate::scenarios::h2::streams,
        );
    };
    (@tests $runner:expr; $($name:ident => $scenario:path),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let mut run = $runner;
                $scenario(&mut run);
            }
        )*
    };
}

/// How many descriptors are registered in the epoll instance `epfd`, read
/// from `/proc/self/fdinfo` (one `tfd:` line per registration). Foreign
/// tests compare it before attaching and after detaching to prove the
/// library left nothing in the host's loop.
pub fn epoll_registered(epfd: std::os::fd::RawFd) -> usize {
    std::fs::read_to_string(format!("/proc/self/fdinfo/{epfd}"))
        .map(|s| s.lines().filter(|l| l.starts_with("tfd:")).count())
        .unwrap_or_else(|e| panic!("fdinfo of epoll fd {epfd}: {e}"))
}
