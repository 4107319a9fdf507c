//! The library side of the foreign-loop examples: one context that serves
//! a directory over HTTP and WebSocket echo on 127.0.0.1 (a free port) and,
//! as its own client, fetches `/` over HTTP and sends three WebSocket
//! messages. It stops itself once both clients are done (or failed).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use lws::http::client::{
    self, ClientCx, ClientEvent, ClientRequest, HttpClientHandler, HttpClientProtocol,
};
use lws::http::{HttpProtocol, Mount, NotFound};
use lws::ws::client::{self as ws_client, ClientOptions};
use lws::ws::{Message, WsCx, WsEvent, WsHandler, WsProtocol};
use lws::{Context, Endpoint, VhostBuilder};

/// What the two clients saw.
#[derive(Debug, Default)]
pub struct Report {
    pub http_status: Option<u16>,
    pub http_bytes: usize,
    pub ws_echoes: usize,
    pub errors: Vec<String>,
    http_done: bool,
    ws_done: bool,
}

impl Report {
    /// Both clients finished and got what they asked for.
    pub fn ok(&self) -> bool {
        self.errors.is_empty() && self.http_status == Some(200) && self.ws_echoes == MESSAGES.len()
    }
}

pub type Shared = Arc<Mutex<Report>>;

const MESSAGES: [&str; 3] = ["one", "two", "three"];

fn finish(report: &Shared, cx: &mut lws::Cx<'_>, mark: impl FnOnce(&mut Report)) {
    let mut r = report.lock().unwrap_or_else(|e| e.into_inner());
    mark(&mut r);
    if r.http_done && r.ws_done {
        cx.stop();
    }
}

struct Echo;

impl WsHandler for Echo {
    type Session = ();
    fn on_event(&mut self, cx: &mut WsCx<'_, '_>, _: &mut (), ev: WsEvent<'_>) {
        if let WsEvent::Message(Message::Text(t)) = ev {
            let _ = cx.send_text(t);
        }
    }
}

struct WsClient(Shared);

impl WsHandler for WsClient {
    type Session = usize;
    fn on_event(&mut self, cx: &mut WsCx<'_, '_>, got: &mut usize, ev: WsEvent<'_>) {
        match ev {
            WsEvent::Established => {
                for m in MESSAGES {
                    let _ = cx.send_text(m);
                }
            }
            WsEvent::Message(Message::Text(t)) => {
                if MESSAGES.get(*got) == Some(&t) {
                    *got += 1;
                    self.0.lock().unwrap_or_else(|e| e.into_inner()).ws_echoes = *got;
                }
                if *got == MESSAGES.len() {
                    cx.close(1000, "done");
                }
            }
            WsEvent::Closed { .. } => finish(&self.0, cx.conn().cx(), |r| r.ws_done = true),
            WsEvent::ConnectError(e) => {
                let e = format!("ws: {e}");
                finish(&self.0, cx.conn().cx(), |r| {
                    r.errors.push(e);
                    r.ws_done = true;
                });
            }
            _ => {}
        }
    }
}

struct HttpClient(Shared);

impl HttpClientHandler for HttpClient {
    type Session = ();
    fn on_event(&mut self, cx: &mut ClientCx<'_, '_>, _: &mut (), ev: ClientEvent<'_>) {
        let mut r = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match ev {
            ClientEvent::Response(head) => r.http_status = Some(head.status),
            ClientEvent::Body(b) => r.http_bytes += b.len(),
            ClientEvent::Done => {
                drop(r);
                finish(&self.0, cx.conn().cx(), |r| r.http_done = true);
            }
            ClientEvent::Error(e) => {
                r.errors.push(format!("http: {e}"));
                drop(r);
                finish(&self.0, cx.conn().cx(), |r| r.http_done = true);
            }
            _ => {}
        }
    }
}

/// The context (clients already queued), the shared report and the
/// server's address.
pub fn build() -> (Context, Shared, SocketAddr) {
    let report = Shared::default();
    let http = HttpProtocol::new(NotFound)
        .mount(Mount::dir(
            "/",
            concat!(env!("CARGO_MANIFEST_DIR"), "/examples/www"),
        ))
        .unwrap_or_else(|e| super::die("mount", e))
        .websocket("echo");
    let vhost = VhostBuilder::new("default")
        .listen(Endpoint::Tcp(SocketAddr::from(([127, 0, 0, 1], 0))))
        .protocol("http", http)
        .protocol("echo", WsProtocol::new(Echo))
        .protocol("ws-client", WsProtocol::new(WsClient(report.clone())))
        .protocol(
            "http-client",
            HttpClientProtocol::new(HttpClient(report.clone())),
        );
    let mut ctx = Context::builder()
        .vhost(vhost)
        .build()
        .unwrap_or_else(|e| super::die("startup", e));
    let addr = match ctx.bound_endpoints("default").unwrap_or_default().first() {
        Some(Endpoint::Tcp(a)) => *a,
        _ => super::die("startup", "no TCP listener"),
    };
    let req =
        ClientRequest::get(&format!("http://{addr}/")).unwrap_or_else(|e| super::die("request", e));
    client::send(&mut ctx, "http-client", req).unwrap_or_else(|e| super::die("request", e));
    ws_client::connect(
        &mut ctx,
        &format!("ws://{addr}/"),
        "ws-client",
        ClientOptions::default(),
    )
    .unwrap_or_else(|e| super::die("ws connect", e));
    (ctx, report, addr)
}

/// Print the clients' results; true when all is well.
pub fn print(report: &Shared) -> bool {
    let r = report.lock().unwrap_or_else(|e| e.into_inner());
    match r.http_status {
        Some(s) => println!("http GET / -> {s} ({} bytes)", r.http_bytes),
        None => println!("http GET / -> no response"),
    }
    println!("ws echo {}/{}", r.ws_echoes, MESSAGES.len());
    for e in &r.errors {
        println!("error: {e}");
    }
    r.ok()
}
