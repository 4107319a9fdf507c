//! TLS data path over real loopback sockets: a 1 MiB echo, ALPN seen by
//! both ends, and an echo whose client stops reading for a while, so the
//! server's echo pauses its reads (back-pressure) with TLS in between, on
//! a level-triggered (poll) and an edge-triggered (mio) loop.
//!
//! These scenarios must not bind anything but 127.0.0.1 or wait without bound.

use std::time::{Duration, Instant};

use super::{Backends, Client, Loop, ca_and_leaf, client_spec, run_client, serve, serve_on};
use lws_core::Connect;

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 253) as u8).collect()
}

pub fn one_mebibyte(b: &Backends) {
    let (ca, leaf) = ca_and_leaf(&["localhost"]);
    let srv = serve(b, vec![("default", leaf)], 0, &[]);
    let payload = pattern(1 << 20);
    let c = super::echo(b, srv.addr, &ca.cert_pem, "localhost", &payload);
    assert_eq!(c.error, None);
    assert_eq!(c.got.len(), payload.len(), "all bytes came back");
    assert!(c.got == payload, "and in order, unchanged");
    assert_eq!(srv.next_opened().vhost, "default");
}

pub fn alpn_reported(b: &Backends) {
    let (ca, leaf) = ca_and_leaf(&["localhost"]);
    let srv = serve(b, vec![("default", leaf)], 0, &["h2", "http/1.1"]);
    let handler = Client {
        payload: b"alpn".to_vec(),
        ..Default::default()
    };
    let c = run_client(
        b,
        client_spec(&ca.cert_pem, &["http/1.1"]),
        Connect::new(srv.addr).tls("localhost"),
        handler,
    );
    assert_eq!(c.got, b"alpn");
    assert_eq!(c.alpn.as_deref(), Some(&b"http/1.1"[..]), "client side");
    let opened = srv.next_opened();
    assert_eq!(
        opened.alpn.as_deref(),
        Some(&b"http/1.1"[..]),
        "server side"
    );
}

pub fn no_alpn(b: &Backends) {
    let (ca, leaf) = ca_and_leaf(&["localhost"]);
    let srv = serve(b, vec![("default", leaf)], 0, &["h2", "http/1.1"]);
    let c = super::echo(b, srv.addr, &ca.cert_pem, "localhost", b"plain");
    assert_eq!((c.got.as_slice(), c.alpn), (&b"plain"[..], None));
    assert_eq!(srv.next_opened().alpn, None);
}

/// The client writes 2 MiB at once but reads nothing for 300 ms: the
/// server's echo queue passes its high-water mark and it pauses reading
/// while TLS records keep arriving. Everything must still come back.
fn paused_reader_echo(b: &Backends, lp: Loop) {
    let (ca, leaf) = ca_and_leaf(&["localhost"]);
    let srv = serve_on(b, lp, vec![("default", leaf)], 0, &[]);
    let payload = pattern(2 << 20);
    let handler = Client {
        payload: payload.clone(),
        pause: Some(Duration::from_millis(300)),
        ..Default::default()
    };
    let started = Instant::now();
    let c = run_client(
        b,
        client_spec(&ca.cert_pem, &[]),
        Connect::new(srv.addr).tls("localhost"),
        handler,
    );
    assert_eq!(c.error, None);
    assert_eq!(
        c.got.len(),
        payload.len(),
        "whole echo despite back-pressure (client closed: {:?})",
        c.closed
    );
    assert!(c.got == payload, "echo intact");
    assert!(started.elapsed() >= Duration::from_millis(300));
}

pub fn paused_reader_poll(b: &Backends) {
    paused_reader_echo(b, Loop::Poll);
}

pub fn paused_reader_mio(b: &Backends) {
    paused_reader_echo(b, Loop::Mio);
}
