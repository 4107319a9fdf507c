//! WebSocket client: connects to `--url`, sends each `--send` message (or
//! one default message), prints what comes back, then closes.
//!
//!     cargo run --example ws-client -- --url ws://127.0.0.1:7681/ --send hello

mod common;

use lws::ws::client::{self, ClientOptions};
use lws::ws::{Message, WsCx, WsEvent, WsHandler, WsProtocol};
use lws::{Context, TlsClientSpec, VhostBuilder};

struct Client {
    to_send: Vec<String>,
    expected: usize,
    failed: bool,
}

impl WsHandler for Client {
    type Session = usize;

    fn on_event(&mut self, cx: &mut WsCx<'_, '_>, received: &mut usize, ev: WsEvent<'_>) {
        match ev {
            WsEvent::Established => {
                println!(
                    "connected{}",
                    cx.subprotocol()
                        .map(|p| format!(" (subprotocol {p})"))
                        .unwrap_or_default()
                );
                for m in &self.to_send {
                    if let Err(e) = cx.send_text(m) {
                        eprintln!("send failed: {e}");
                    }
                }
            }
            WsEvent::Message(m) => {
                match m {
                    Message::Text(t) => println!("received text: {t}"),
                    Message::Binary(b) => println!("received {} bytes of binary", b.len()),
                }
                *received += 1;
                if *received == self.expected {
                    cx.close(1000, "done");
                }
            }
            WsEvent::Closed { code, reason } => {
                println!("closed: {code} {reason}");
                cx.conn().cx().stop();
            }
            WsEvent::ConnectError(e) => {
                eprintln!("connect failed: {e}");
                self.failed = true;
                cx.conn().cx().stop();
            }
            _ => {}
        }
    }
}

fn main() {
    common::init_logging();
    let cli = common::Cli::client(
        "ws-client",
        "connect to a WebSocket server, send, print replies",
    )
    .opt("--url", "URL", "ws:// or wss:// URL")
    .opt(
        "--send",
        "TEXT",
        "message to send (echo servers send it back)",
    )
    .opt("--cacert", "PEM", "CA certificate to trust for wss://")
    .tls_lib()
    .opt("--subprotocol", "NAME", "subprotocol to offer")
    .default("--url", "ws://127.0.0.1:7681/")
    .default("--send", "hello from lws-rs")
    .parse();
    let to_send = vec![cli.get("--send").unwrap_or_default().to_owned()];
    let expected = to_send.len();
    let proto = WsProtocol::new(Client {
        to_send,
        expected,
        failed: false,
    });
    let mut builder =
        Context::builder().vhost(VhostBuilder::new("default").protocol("client", proto));
    builder = builder.tls_backend(common::tls::backend(&cli));
    if let Some(ca) = cli.get("--cacert") {
        let pem = std::fs::read(ca).unwrap_or_else(|e| common::die("--cacert", e));
        builder = builder.tls_client(TlsClientSpec {
            ca_pem: pem,
            ..Default::default()
        });
    }
    let mut ctx = builder
        .build()
        .unwrap_or_else(|e| common::die("startup", e));
    let opts = ClientOptions {
        subprotocols: cli
            .get("--subprotocol")
            .map(|s| vec![s.to_owned()])
            .unwrap_or_default(),
        ..Default::default()
    };
    client::connect(
        &mut ctx,
        cli.get("--url").unwrap_or_default(),
        "client",
        opts,
    )
    .unwrap_or_else(|e| common::die("--url", e));
    common::stop_on_signals(ctx.remote());
    if let Err(e) = lws::loops::run(cli.loop_name(), &mut ctx) {
        common::die("event loop", e);
    }
    let failed = ctx
        .protocol_mut::<WsProtocol<Client>>("default", "client")
        .is_some_and(|p| p.handler().failed);
    std::process::exit(i32::from(failed));
}
