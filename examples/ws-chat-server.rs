//! WebSocket chat: every message a client sends is broadcast to all
//! connected clients. Serves a page (examples/chat/index.html) that joins
//! the chat from a browser. Written the libwebsockets way: messages go into
//! a shared, bounded history; each connection is asked for a writable
//! callback and sends what it has not sent yet, one message per writable.
//!
//!     cargo run --example ws-chat-server -- --port 7681
//!     open http://127.0.0.1:7681/ in two browser tabs

mod common;

use std::collections::VecDeque;

use lws::http::{HttpProtocol, Mount, NotFound};
use lws::ws::{Message, WsCx, WsEvent, WsHandler, WsProtocol};
use lws::{Context, VhostBuilder};

/// Messages kept for clients that have not sent them yet.
const HISTORY: usize = 256;

#[derive(Default)]
struct Chat {
    /// (sequence number, text), oldest first.
    history: VecDeque<(u64, String)>,
    next_seq: u64,
    members: usize,
}

impl Chat {
    fn post(&mut self, cx: &mut WsCx<'_, '_>, text: String) {
        self.history.push_back((self.next_seq, text));
        self.next_seq += 1;
        if self.history.len() > HISTORY {
            self.history.pop_front(); // a client that far behind skips ahead
        }
        cx.conn().cx().request_writable_all();
    }
}

impl WsHandler for Chat {
    /// The next sequence number this connection has to send.
    type Session = u64;

    fn on_event(&mut self, cx: &mut WsCx<'_, '_>, next: &mut u64, ev: WsEvent<'_>) {
        match ev {
            WsEvent::Established => {
                *next = self.next_seq;
                self.members += 1;
                let joined = format!("* someone joined ({} here)", self.members);
                self.post(cx, joined);
            }
            WsEvent::Message(Message::Text(t)) => self.post(cx, t.to_owned()),
            WsEvent::Writable => {
                let oldest = self.history.front().map_or(self.next_seq, |(s, _)| *s);
                *next = (*next).max(oldest);
                if let Some((seq, text)) = self.history.iter().find(|(s, _)| *s == *next) {
                    if let Err(e) = cx.send_text(text) {
                        log::warn!("{:?}: {e}", cx.token());
                    }
                    *next = seq + 1;
                }
                if *next < self.next_seq {
                    cx.request_writable();
                }
            }
            WsEvent::Closed { .. } => {
                self.members = self.members.saturating_sub(1);
                let left = format!("* someone left ({} here)", self.members);
                self.post(cx, left);
            }
            _ => {}
        }
    }
}

fn main() {
    common::init_logging();
    let cli = common::Cli::server(
        "ws-chat-server",
        "broadcast chat over WebSocket, with a browser page",
        7681,
    )
    .opt("--dir", "DIR", "directory with the chat page")
    .opt("--tls", "", "serve https:// and wss://")
    .opt(
        "--cert",
        "PEM",
        "certificate chain for --tls (default: generated)",
    )
    .opt("--key", "PEM", "private key for --tls")
    .tls_lib()
    .default(
        "--dir",
        concat!(env!("CARGO_MANIFEST_DIR"), "/examples/chat"),
    )
    .parse();
    let page = HttpProtocol::new(NotFound)
        .mount(Mount::dir("/", cli.get("--dir").unwrap_or(".")))
        .unwrap_or_else(|e| common::die("--dir", e))
        .websocket("chat");
    let mut vhost = VhostBuilder::new("default")
        .listen(cli.listen())
        .protocol("http", page)
        .protocol("chat", WsProtocol::new(Chat::default()).subprotocol("chat"));
    let mut builder = Context::builder();
    if cli.flag("--tls") {
        vhost = vhost.tls(common::tls::server_spec(&cli, &["http/1.1"]));
        builder = builder.tls_backend(common::tls::backend(&cli));
    }
    let scheme = if cli.flag("--tls") { "https" } else { "http" };
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
