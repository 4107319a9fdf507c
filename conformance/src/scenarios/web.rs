//! HTTP/1.1 and WebSocket over the loop under test: many keep-alive
//! clients each sending several requests, and many WebSocket clients each
//! echoing several messages (plain std sockets on the peer side, with
//! minimal framing written here).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;

use lws_core::{Context, Endpoint, VhostBuilder};
use lws_role_http::{HttpCx, HttpEvent, HttpHandler, HttpProtocol};
use lws_role_ws::{Message, WsCx, WsEvent, WsHandler, WsProtocol};

use crate::Runner;
use crate::peer::{self, Watchdog};

const CONNS: usize = 50;
const PER_CONN: usize = 20;

/// Answers `GET /n/<i>` with `reply <i>`; echoes WebSocket messages.
struct App;

impl HttpHandler for App {
    type Exchange = ();
    fn on_event(&mut self, cx: &mut HttpCx<'_, '_>, _: &mut (), ev: HttpEvent<'_>) {
        if let HttpEvent::BodyEnd = ev {
            let body = cx
                .request()
                .map(|r| format!("reply {}", r.path().trim_start_matches("/n/")))
                .unwrap_or_default();
            let _ = cx.respond(200, &[("Content-Type", "text/plain")], body.as_bytes());
        }
    }
}

struct Echo;

impl WsHandler for Echo {
    type Session = ();
    fn on_event(&mut self, cx: &mut WsCx<'_, '_>, _: &mut (), ev: WsEvent<'_>) {
        let _ = match ev {
            WsEvent::Message(Message::Text(t)) => cx.send_text(t),
            WsEvent::Message(Message::Binary(b)) => cx.send_binary(b),
            _ => Ok(()),
        };
    }
}

pub(crate) fn web_server() -> (Context, SocketAddr) {
    let vh = VhostBuilder::new("default")
        .listen(Endpoint::Tcp(SocketAddr::from(([127, 0, 0, 1], 0))))
        .protocol("http", HttpProtocol::new(App).websocket("echo"))
        .protocol("echo", WsProtocol::new(Echo));
    let ctx = Context::builder().vhost(vh).build().expect("context");
    let addr = match ctx.bound_endpoints("default").expect("vhost").first() {
        Some(Endpoint::Tcp(a)) => *a,
        _ => panic!("no listener"),
    };
    (ctx, addr)
}

/// Run `ctx` while `n` peer threads each run `client(i)`; the context
/// stops once all have finished. Returns the sum of what they returned.
pub(crate) fn with_clients(
    run: Runner<'_>,
    ctx: Context,
    n: usize,
    client: impl Fn(SocketAddr, usize) -> usize + Send + Sync + 'static,
    addr: SocketAddr,
) -> usize {
    let remote = ctx.remote();
    let _dog = Watchdog::arm(remote.clone(), peer::SCENARIO_LIMIT);
    let client = std::sync::Arc::new(client);
    let peers = thread::spawn(move || {
        let workers: Vec<_> = (0..n)
            .map(|c| {
                let f = client.clone();
                thread::spawn(move || f(addr, c))
            })
            .collect();
        let ok = workers.into_iter().map(|w| w.join().expect("worker")).sum();
        remote.stop();
        ok
    });
    let _ctx = run(ctx);
    peers.join().expect("peers")
}

/// Read one HTTP response with a Content-Length body; returns the body.
fn read_response(s: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut b).expect("response head");
        head.push(b[0]);
    }
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let len: usize = text
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("content-length");
    String::from_utf8_lossy(&peer::read_n(s, len)).into_owned()
}

/// 50 keep-alive connections x 20 requests each, answers in order.
pub fn http_keepalive(run: Runner<'_>) {
    let (ctx, addr) = web_server();
    let ok = with_clients(run, ctx, CONNS, keepalive_client, addr);
    assert_eq!(ok, CONNS * PER_CONN, "every request answered correctly");
}

/// One keep-alive connection sending `PER_CONN` requests in turn.
fn keepalive_client(addr: SocketAddr, c: usize) -> usize {
    let mut s = peer::connect(addr);
    (0..PER_CONN)
        .filter(|i| {
            let n = c * 1000 + i;
            let req = format!("GET /n/{n} HTTP/1.1\r\nHost: t\r\n\r\n");
            peer::send(&mut s, req.as_bytes());
            read_response(&mut s) == format!("reply {n}")
        })
        .count()
}

/// A minimal WebSocket client on a blocking socket.
fn ws_connect(addr: SocketAddr) -> TcpStream {
    let mut s = peer::connect(addr);
    s.write_all(
        b"GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .expect("upgrade request");
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut b).expect("101 head");
        head.push(b[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    s
}

fn ws_send_text(s: &mut TcpStream, text: &str) {
    let mask = [1u8, 2, 3, 4];
    let mut f = vec![0x81, 0x80 | text.len() as u8];
    f.extend_from_slice(&mask);
    f.extend(text.bytes().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    s.write_all(&f).expect("frame");
}

fn ws_recv_text(s: &mut TcpStream) -> String {
    let h = peer::read_n(s, 2);
    assert_eq!(h[0], 0x81, "unfragmented text frame");
    String::from_utf8_lossy(&peer::read_n(s, usize::from(h[1] & 0x7f))).into_owned()
}

/// 50 WebSocket connections x 20 echoed messages each.
pub fn websocket_echo(run: Runner<'_>) {
    let (ctx, addr) = web_server();
    let ok = with_clients(run, ctx, CONNS, ws_client, addr);
    assert_eq!(ok, CONNS * PER_CONN, "every message echoed");
}

/// One WebSocket connection echoing `PER_CONN` messages.
fn ws_client(addr: SocketAddr, c: usize) -> usize {
    let mut s = ws_connect(addr);
    (0..PER_CONN)
        .filter(|i| {
            let m = format!("conn {c} message {i}");
            ws_send_text(&mut s, &m);
            ws_recv_text(&mut s) == m
        })
        .count()
}
