//! WebSocket role features over real sockets, lws-rs on both ends:
//! validity pings (a silent peer is closed within interval + timeout),
//! streaming fragments, the message size limit (1009), handshake hooks
//! (refusing an Origin, extra headers), subprotocol selection, and
//! malformed upgrades answered with HTTP errors.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{handler, run_client, serve};
use lws_role_http::Request;
use lws_role_ws::client::{self, ClientOptions};
use lws_role_ws::{Message, WsConfig, WsCx, WsEvent, WsHandler, WsProtocol};

/// Server handler: echoes, refuses Origin "evil", adds a header, reports
/// fragments it sees.
struct Guarded;

impl WsHandler for Guarded {
    type Session = ();
    fn on_event(&mut self, cx: &mut WsCx<'_, '_>, _: &mut (), ev: WsEvent<'_>) {
        let _ = match ev {
            WsEvent::Message(Message::Text(t)) => cx.send_text(t),
            WsEvent::Message(Message::Binary(b)) => cx.send_binary(b),
            WsEvent::Fragment { data, last, .. } => {
                let note = format!("fragment {} last={last}", data.len());
                cx.send_text(&note)
            }
            _ => Ok(()),
        };
    }

    fn on_handshake(
        &mut self,
        req: &Request,
        extra: &mut Vec<(String, String)>,
    ) -> Result<(), u16> {
        if req.header("origin") == Some("http://evil.example") {
            return Err(403);
        }
        extra.push(("X-Served-By".into(), "lws-rs".into()));
        Ok(())
    }
}

fn raw_upgrade(addr: std::net::SocketAddr, extra: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let req = format!(
        "GET /chat HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    );
    s.write_all(req.as_bytes()).expect("write");
    let mut out = vec![0u8; 4096];
    let n = s.read(&mut out).unwrap_or(0);
    String::from_utf8_lossy(&out[..n]).into_owned()
}

#[test]
fn handshake_hooks_subprotocols_and_bad_upgrades() {
    let srv = serve(None, "guarded", |vh| {
        vh.protocol("guarded", WsProtocol::new(Guarded).subprotocol("guarded"))
            .protocol("chat", WsProtocol::new(Guarded).subprotocol("chat"))
    });
    let ok = raw_upgrade(srv.addr, "Sec-WebSocket-Protocol: nope, chat\r\n");
    assert!(ok.starts_with("HTTP/1.1 101"), "{ok}");
    assert!(
        ok.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        "{ok}"
    );
    assert!(
        ok.contains("Sec-WebSocket-Protocol: chat"),
        "selected the vhost protocol named chat: {ok}"
    );
    assert!(ok.contains("X-Served-By: lws-rs"), "extra header: {ok}");
    let evil = raw_upgrade(srv.addr, "Origin: http://evil.example\r\n");
    assert!(evil.starts_with("HTTP/1.1 403"), "origin refused: {evil}");
    let bad_version = {
        let mut s = TcpStream::connect(srv.addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n").expect("w");
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    };
    assert!(
        bad_version.starts_with("HTTP/1.1 426")
            && bad_version.contains("Sec-WebSocket-Version: 13"),
        "{bad_version}"
    );
}

/// Client that goes silent: it never answers pings because it is not a
/// WebSocket at all after the handshake (raw socket that stops reading).
#[test]
fn validity_closes_a_peer_that_stops_answering_pings() {
    let interval = Duration::from_millis(300);
    let timeout = Duration::from_millis(300);
    let config = WsConfig {
        ping_interval: Some(interval),
        pong_timeout: timeout,
        ..WsConfig::default()
    };
    let srv = serve(None, "guarded", move |vh| {
        vh.protocol("guarded", WsProtocol::new(Guarded).config(config))
    });
    let mut s = TcpStream::connect(srv.addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").expect("w");
    let t0 = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break, // closed by the server
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    let took = t0.elapsed();
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 101"));
    assert!(
        got.windows(2).any(|w| w == [0x89, 3]),
        "a ping (opcode 9, 3-byte payload) was sent"
    );
    assert!(
        took >= interval + timeout - Duration::from_millis(50),
        "closed too early: {took:?}"
    );
    assert!(
        took < (interval + timeout) * 3,
        "not closed within interval + timeout: {took:?}"
    );
}

/// A client that answers pings is not closed: the lws-rs client.
#[derive(Default)]
struct Patient {
    pongs_seen: usize,
    closed: Option<u16>,
    big_error: Option<u16>,
    fragments: Vec<String>,
}

impl WsHandler for Patient {
    type Session = u32;
    fn on_event(&mut self, cx: &mut WsCx<'_, '_>, step: &mut u32, ev: WsEvent<'_>) {
        match ev {
            WsEvent::Established => {
                cx.conn().set_timer(Duration::from_millis(900), 1);
            }
            WsEvent::Timer(1) => {
                // Still open after three ping intervals: send fragments.
                cx.send_fragment(true, b"ab", false).expect("frag");
                cx.send_fragment(true, b"cde", true).expect("frag");
                *step = 1;
            }
            WsEvent::Message(Message::Text(t)) => {
                self.fragments.push(t.to_owned());
                if self.fragments.len() == 2 {
                    cx.send_binary(&vec![0u8; 70_000]).expect("big"); // over the server's limit
                }
            }
            WsEvent::Pong(_) => self.pongs_seen += 1,
            WsEvent::Closed { code, .. } => {
                self.closed = Some(code);
                self.big_error = Some(code);
                cx.conn().cx().stop();
            }
            _ => {}
        }
    }
}

#[test]
fn streaming_fragments_size_limit_and_answered_pings() {
    let config = WsConfig {
        ping_interval: Some(Duration::from_millis(200)),
        pong_timeout: Duration::from_millis(200),
        streaming: true,
        max_message: 64 * 1024,
        ..WsConfig::default()
    };
    let srv = serve(None, "guarded", move |vh| {
        vh.protocol("guarded", WsProtocol::new(Guarded).config(config))
    });
    let url = format!("ws://127.0.0.1:{}/", srv.addr.port());
    let mut ctx = run_client(Patient::default(), WsConfig::default(), None, |ctx| {
        client::connect(ctx, &url, "c", ClientOptions::default()).expect("connect");
    });
    let h = handler::<Patient>(&mut ctx);
    assert_eq!(
        h.fragments,
        vec!["fragment 2 last=false", "fragment 3 last=true"],
        "streamed as fragments"
    );
    assert_eq!(
        h.closed,
        Some(1009),
        "message over the limit closes with 1009"
    );
}
