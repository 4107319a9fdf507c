//! Raw echo server over TCP (or a Unix-domain socket with `--unix PATH`).
//!
//! Every byte a client sends comes back. Written libwebsockets-style: input
//! is queued, a writable callback is requested, and the queue is written in
//! that callback; reading pauses while too much output is pending.
//!
//!     cargo run --example raw-echo-server -- --port 7681
//!     cargo run --example raw-client -- --connect 127.0.0.1:7681 --send hello

mod common;

use lws::raw::{RawEvent, RawHandler, RawProtocol};
use lws::{ConnCx, Context, Endpoint, VhostBuilder};

/// Stop reading from a client while this much of its echo is queued.
const HIGH_WATER: usize = 1 << 20;

struct Echo;

impl RawHandler for Echo {
    type Session = Vec<u8>;

    fn on_event(&mut self, cx: &mut ConnCx<'_>, queued: &mut Vec<u8>, ev: RawEvent<'_>) {
        match ev {
            RawEvent::Rx(data) => {
                queued.extend_from_slice(data);
                cx.request_writable();
                cx.pause_rx(queued.len() > HIGH_WATER);
            }
            RawEvent::Writable => {
                if let Err(e) = cx.write(queued) {
                    log::warn!("{:?}: write failed: {e}", cx.token());
                }
                queued.clear();
                cx.pause_rx(false);
            }
            RawEvent::Closed(reason) => log::info!("{:?} closed: {reason}", cx.token()),
            _ => {}
        }
    }
}

fn main() {
    common::init_logging();
    let cli = common::Cli::server(
        "raw-echo-server",
        "echo every byte back (TCP or Unix socket)",
        7681,
    )
    .opt(
        "--unix",
        "PATH",
        "listen on this Unix socket path instead of TCP",
    )
    .parse();
    let endpoint = match cli.get("--unix") {
        Some(path) => Endpoint::Unix(path.into()),
        None => cli.listen(),
    };
    let vhost = VhostBuilder::new("default")
        .listen(endpoint)
        .protocol("echo", RawProtocol::new(Echo));
    let mut ctx = Context::builder()
        .vhost(vhost)
        .build()
        .unwrap_or_else(|e| common::die("startup", e));
    common::stop_on_signals(ctx.remote());
    for ep in ctx.bound_endpoints("default").unwrap_or_default() {
        common::announce("tcp", ep);
    }
    if let Err(e) = lws::loops::run(cli.loop_name(), &mut ctx) {
        common::die("event loop", e);
    }
    println!("stopped: {} connections served", ctx.stats().opened);
}
