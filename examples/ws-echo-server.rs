//! WebSocket echo server (the Autobahn target): every message comes back
//! as it came (text as text, binary as binary), on every path. Serves
//! `--dir` over HTTP too, so a browser can load a page that connects.
//!
//!     cargo run --example ws-echo-server -- --port 7681
//!     python3 -m websockets ws://127.0.0.1:7681/

mod common;

use lws::http::{HttpProtocol, Mount, NotFound};
use lws::ws::{Message, WsConfig, WsCx, WsEvent, WsHandler, WsProtocol};
use lws::{Context, VhostBuilder};

struct Echo;

impl WsHandler for Echo {
    type Session = ();

    fn on_event(&mut self, cx: &mut WsCx<'_, '_>, _: &mut (), ev: WsEvent<'_>) {
        let sent = match ev {
            WsEvent::Message(Message::Text(t)) => cx.send_text(t),
            WsEvent::Message(Message::Binary(b)) => cx.send_binary(b),
            _ => Ok(()),
        };
        if let Err(e) = sent {
            log::warn!("{:?}: echo failed: {e}", cx.token());
        }
    }
}

fn main() {
    common::init_logging();
    let cli = common::Cli::server(
        "ws-echo-server",
        "WebSocket echo on every path (Autobahn target)",
        7681,
    )
    .opt("--dir", "DIR", "directory served over plain HTTP")
    .opt("--tls", "", "serve wss:// (and https://)")
    .opt(
        "--cert",
        "PEM",
        "certificate chain for --tls (default: generated)",
    )
    .opt("--key", "PEM", "private key for --tls")
    .tls_lib()
    .opt("--max-message", "BYTES", "largest message accepted")
    .default(
        "--dir",
        concat!(env!("CARGO_MANIFEST_DIR"), "/examples/www"),
    )
    .default("--max-message", "67108864")
    .parse();
    let http = HttpProtocol::new(NotFound)
        .mount(Mount::dir("/", cli.get("--dir").unwrap_or(".")))
        .unwrap_or_else(|e| common::die("--dir", e))
        .websocket("echo");
    let config = WsConfig {
        max_message: cli.parsed("--max-message"),
        ..WsConfig::default()
    };
    let mut vhost = VhostBuilder::new("default")
        .listen(cli.listen())
        .protocol("http", http)
        .protocol("echo", WsProtocol::new(Echo).config(config));
    let mut builder = Context::builder();
    if cli.flag("--tls") {
        vhost = vhost.tls(common::tls::server_spec(&cli, &["http/1.1"]));
        builder = builder.tls_backend(common::tls::backend(&cli));
    }
    let scheme = if cli.flag("--tls") { "wss" } else { "ws" };
    let mut ctx = builder
        .vhost(vhost)
        .build()
        .unwrap_or_else(|e| common::die("startup", e));
    common::stop_on_signals(ctx.remote());
    for ep in ctx.bound_endpoints("default").unwrap_or_default() {
        common::announce(scheme, ep);
    }
    if let Err(e) = lws::loops::run(cli.loop_name(), &mut ctx) {
        common::die("event loop", e);
    }
}
