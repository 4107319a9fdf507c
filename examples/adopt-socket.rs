//! Adoption: the application accepts connections with a plain
//! `std::net::TcpListener` on its own thread, then hands each stream to the
//! library, which serves it (here: echo) on its event loop. The first bytes
//! are read by the application before handing over ("adopt with read
//! buffer") and still reach the protocol first.
//!
//!     cargo run --example adopt-socket -- --port 7682
//!     cargo run --example raw-client -- --connect 127.0.0.1:7682

mod common;

use std::io::Read;
use std::net::TcpListener;

use lws::raw::{RawEvent, RawProtocol};
use lws::{Adopt, Context, Endpoint, VhostBuilder};

fn main() {
    common::init_logging();
    let cli = common::Cli::server(
        "adopt-socket",
        "accept with std, serve with lws (echo)",
        7682,
    )
    .parse();
    let Endpoint::Tcp(addr) = cli.listen() else {
        unreachable!("--bind/--port is TCP")
    };

    // No listener on the vhost: every connection arrives by adoption.
    let echo = RawProtocol::from_fn(|cx, ev| match ev {
        RawEvent::Opened(kind) => log::info!("{:?} {kind:?}", cx.token()),
        RawEvent::Rx(data) => {
            let _ = cx.write(data);
        }
        _ => {}
    });
    let mut ctx = Context::builder()
        .vhost(VhostBuilder::new("default").protocol("echo", echo))
        .build()
        .unwrap_or_else(|e| common::die("startup", e));

    let listener = TcpListener::bind(addr).unwrap_or_else(|e| common::die("bind", e));
    let local = listener
        .local_addr()
        .unwrap_or_else(|e| common::die("bind", e));
    let remote = ctx.remote();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            // Peek at the first bytes ourselves (a protocol sniffer would);
            // the library delivers them first, as if it had read them.
            let mut first = vec![0u8; 64];
            let n = stream.read(&mut first).unwrap_or(0);
            first.truncate(n);
            remote.post(move |cx| cx.adopt(Adopt::tcp(stream).protocol("echo").read_buffer(first)));
        }
    });
    common::stop_on_signals(ctx.remote());
    common::announce("tcp", &Endpoint::Tcp(local));
    if let Err(e) = lws::loops::run(cli.loop_name(), &mut ctx) {
        common::die("event loop", e);
    }
}
