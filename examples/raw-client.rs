//! Raw client: connects (TCP or `unix:/path`), sends a message, prints what
//! comes back, and exits when the reply is complete or the server closes.
//! Connection errors (refused, timed out) are reported as events.
//!
//!     cargo run --example raw-client -- --connect 127.0.0.1:7681 --send hello

mod common;

use std::time::Duration;

use lws::raw::{RawEvent, RawHandler, RawProtocol};
use lws::{CloseReason, ConnCx, Connect, Context, Endpoint, VhostBuilder};

struct Client {
    message: Vec<u8>,
    reply: Vec<u8>,
    failed: bool,
}

impl RawHandler for Client {
    type Session = ();

    fn on_event(&mut self, cx: &mut ConnCx<'_>, _: &mut (), ev: RawEvent<'_>) {
        match ev {
            RawEvent::Opened(_) => {
                if let Err(e) = cx.write(&self.message) {
                    eprintln!("send failed: {e}");
                }
                cx.set_timeout(Some(Duration::from_secs(5)));
            }
            RawEvent::Rx(data) => {
                self.reply.extend_from_slice(data);
                if self.reply.len() >= self.message.len() {
                    cx.close(CloseReason::Normal); // the whole echo arrived
                }
            }
            RawEvent::ConnectError(e) => {
                eprintln!("connect failed: {e}");
                self.failed = true;
                cx.cx().stop();
            }
            RawEvent::Closed(reason) => {
                println!(
                    "received {} bytes: {}",
                    self.reply.len(),
                    String::from_utf8_lossy(&self.reply)
                );
                println!("closed: {reason}");
                cx.cx().stop();
            }
            _ => {}
        }
    }
}

fn main() {
    common::init_logging();
    let cli = common::Cli::client("raw-client", "connect, send a message, print the reply")
        .opt("--connect", "ADDR", "server address: ip:port or unix:/path")
        .opt("--send", "TEXT", "message to send")
        .default("--connect", "127.0.0.1:7681")
        .default("--send", "hello from lws-rs")
        .parse();
    let endpoint: Endpoint = cli.parsed("--connect");
    let client = Client {
        message: cli.get("--send").unwrap_or("").as_bytes().to_vec(),
        reply: Vec::new(),
        failed: false,
    };
    let vhost = VhostBuilder::new("default").protocol("client", RawProtocol::new(client));
    let mut ctx = Context::builder()
        .vhost(vhost)
        .build()
        .unwrap_or_else(|e| common::die("startup", e));
    ctx.connect(Connect::new(endpoint).timeout(Duration::from_secs(5)))
        .unwrap_or_else(|e| common::die("connect", e));
    common::stop_on_signals(ctx.remote());
    if let Err(e) = lws::loops::run(cli.loop_name(), &mut ctx) {
        common::die("event loop", e);
    }
    let failed = ctx
        .protocol_mut::<RawProtocol<Client>>("default", "client")
        .is_some_and(|p| p.handler().failed);
    std::process::exit(i32::from(failed));
}
