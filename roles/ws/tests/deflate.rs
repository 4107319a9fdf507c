//! permessage-deflate negotiation over real sockets: what the lws client
//! offers and which server answers it accepts (RFC 6455 §4.1, RFC 7692
//! §5.1, §7.1), and what the lws server answers to window-bits offers.
//! Python `websockets` as the peer is in `deflate_python.rs`.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::Duration;

use common::echo_server;
use common::probe::connect_to;
use lws_role_ws::WsConfig;
use lws_role_ws::proto::handshake::accept_key;

/// A server that reads one upgrade request, answers 101 with
/// `Sec-WebSocket-Extensions: {ext}` (none when empty), ends its side and
/// reads until the client goes. Returns the request it read.
fn fake_server(ext: &'static str) -> (String, JoinHandle<String>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("ws://{}/", l.local_addr().expect("addr"));
    let h = std::thread::spawn(move || {
        let (s, _) = l.accept().expect("accept");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let mut r = BufReader::new(s);
        let mut req = String::new();
        while !req.ends_with("\r\n\r\n") {
            if r.read_line(&mut req).unwrap_or(0) == 0 {
                break;
            }
        }
        let key = req
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap_or_default()
            .trim()
            .to_owned();
        let mut resp = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n",
            accept_key(&key)
        );
        if !ext.is_empty() {
            resp.push_str(&format!("Sec-WebSocket-Extensions: {ext}\r\n"));
        }
        resp.push_str("\r\n");
        let mut s = r.into_inner();
        let _ = s.write_all(resp.as_bytes());
        // Nothing more from us: the client sees the end of input and goes.
        let _ = s.shutdown(std::net::Shutdown::Write);
        let mut sink = [0u8; 4096];
        while matches!(s.read(&mut sink), Ok(n) if n > 0) {}
        req
    });
    (url, h)
}

#[test]
fn rfc6455_4_1_client_without_deflate_offers_nothing_and_fails_an_unasked_extension() {
    let (url, srv) = fake_server("permessage-deflate");
    let off = WsConfig {
        deflate: false,
        ..WsConfig::default()
    };
    let p = connect_to(&url, off);
    let req = srv.join().expect("server");
    assert!(
        !req.to_ascii_lowercase()
            .contains("sec-websocket-extensions"),
        "no offer: {req}"
    );
    let err = p.error.expect("handshake must fail");
    assert!(err.contains("not offered"), "{err}");
    assert_eq!(p.compression, None, "never opened");
}

#[test]
fn rfc6455_4_1_client_fails_extensions_and_parameters_it_did_not_offer() {
    let small = WsConfig {
        max_window_bits: 10,
        ..WsConfig::default()
    };
    for (ext, config, why) in [
        ("x-foo", WsConfig::default(), "not offered"),
        (
            "permessage-deflate, x-foo",
            WsConfig::default(),
            "not offered",
        ),
        (
            "permessage-deflate; client_max_window_bits",
            WsConfig::default(),
            "without a value",
        ),
        (
            "permessage-deflate; server_max_window_bits=11",
            small.clone(),
            "above the offer",
        ),
        (
            "permessage-deflate",
            small,
            "ignored server_max_window_bits",
        ),
    ] {
        let (url, srv) = fake_server(ext);
        let p = connect_to(&url, config);
        let req = srv.join().expect("server");
        assert!(req.contains("permessage-deflate"), "{req}");
        let err = p.error.unwrap_or_default();
        assert!(err.contains(why), "{ext}: {err:?}");
    }
}

#[test]
fn client_offer_carries_the_window_and_context_policy() {
    let (url, srv) = fake_server("");
    let config = WsConfig {
        max_window_bits: 11,
        no_context_takeover: true,
        ..WsConfig::default()
    };
    let p = connect_to(&url, config);
    let req = srv.join().expect("server");
    assert!(
        req.contains(
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=11; \
             server_max_window_bits=11; client_no_context_takeover; server_no_context_takeover\r\n"
        ),
        "{req}"
    );
    assert_eq!(
        p.compression,
        Some(false),
        "no extension accepted: {p:?}",
        p = p.error
    );
}

/// Upgrade with a raw socket offering `ext`; returns the response head and
/// the socket.
fn raw_upgrade(addr: std::net::SocketAddr, ext: &str) -> (String, TcpStream) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let req = format!(
        "GET / HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Extensions: {ext}\r\n\r\n"
    );
    s.write_all(req.as_bytes()).expect("write");
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && s.read(&mut b).unwrap_or(0) == 1 {
        head.push(b[0]);
    }
    (String::from_utf8_lossy(&head).into_owned(), s)
}

#[test]
fn rfc7692_7_1_2_server_answers_window_bits_both_ways() {
    let srv = echo_server(
        false,
        WsConfig {
            max_window_bits: 10,
            ..WsConfig::default()
        },
    );
    for (offer, answer) in [
        (
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; server_max_window_bits=10; client_max_window_bits=10",
        ),
        (
            "permessage-deflate; server_max_window_bits=12; client_max_window_bits=9",
            "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9",
        ),
        (
            "permessage-deflate",
            "permessage-deflate; server_max_window_bits=10",
        ),
    ] {
        let (head, _) = raw_upgrade(srv.addr, offer);
        assert!(
            head.contains(&format!("Sec-WebSocket-Extensions: {answer}\r\n")),
            "{offer}: {head}"
        );
    }
}

#[test]
fn an_8_bit_server_window_is_accepted_and_messages_go_uncompressed() {
    let srv = echo_server(false, WsConfig::default());
    let (head, mut s) = raw_upgrade(srv.addr, "permessage-deflate; server_max_window_bits=8");
    assert!(
        head.contains("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=8\r\n"),
        "{head}"
    );
    // A masked, uncompressed text frame of 64 'a's (long enough to be
    // compressed if we could).
    let mask = [1u8, 2, 3, 4];
    let mut frame = vec![0x81, 0x80 | 64];
    frame.extend_from_slice(&mask);
    frame.extend((0..64).map(|i| b'a' ^ mask[i % 4]));
    s.write_all(&frame).expect("frame");
    let mut echo = [0u8; 66];
    s.read_exact(&mut echo).expect("echo");
    assert_eq!(
        echo[0], 0x81,
        "FIN, RSV1 clear (not a stored deflate block), text"
    );
    assert_eq!(echo[1], 64);
    assert!(echo[2..].iter().all(|b| *b == b'a'));
}
