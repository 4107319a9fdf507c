//! Failures stay contained: a client hello that is not TLS closes only its
//! own connection, an untrusted server certificate surfaces as the
//! client's `ConnectError` (not a panic or a hang), and a bad server name
//! is refused before any socket is opened.
//!
//! These scenarios must not bind anything but 127.0.0.1 or wait without bound.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::{Backends, Client, REPORT, ca_and_leaf, client_spec, run_client, serve};
use lws_core::{Connect, Context, Error, TlsError, VhostBuilder};
use lws_role_raw::RawProtocol;
use lws_tls_rustls::testcert::TestCa;

pub fn garbage_client_hello(b: &Backends) {
    let (ca, leaf) = ca_and_leaf(&["localhost"]);
    let srv = serve(b, vec![("default", leaf)], 0, &[]);
    let mut bad = TcpStream::connect(srv.addr).expect("connect");
    bad.set_read_timeout(Some(REPORT)).expect("timeout");
    // A TLS handshake record holding a truncated ClientHello.
    bad.write_all(b"\x16\x03\x01\x00\x08\x01\x00\x00\x04\x03\x03\x00\x00")
        .expect("garbage");
    let good = super::echo(b, srv.addr, &ca.cert_pem, "localhost", b"still fine");
    assert_eq!(
        good.got, b"still fine",
        "a concurrent good client completes"
    );
    let started = Instant::now();
    let mut rest = Vec::new();
    let outcome = bad.read_to_end(&mut rest).map_err(|e| e.kind());
    assert!(
        matches!(outcome, Ok(_) | Err(ErrorKind::ConnectionReset)),
        "the bad connection was closed, not left open: {outcome:?}"
    );
    assert!(started.elapsed() < REPORT);
    assert!(rest.len() < 64, "at most an alert came back: {rest:?}");
    assert_eq!(
        srv.next_opened().vhost,
        "default",
        "only the good one opened"
    );
}

pub fn untrusted_certificate(b: &Backends) {
    let (_ca, leaf) = ca_and_leaf(&["localhost"]);
    let stranger = TestCa::new("not the server's CA").expect("ca");
    let srv = serve(b, vec![("default", leaf)], 0, &[]);
    let handler = Client {
        payload: b"never sent".to_vec(),
        ..Default::default()
    };
    let started = Instant::now();
    let c = run_client(
        b,
        client_spec(&stranger.cert_pem, &[]),
        Connect::new(srv.addr).tls("localhost"),
        handler,
    );
    assert!(started.elapsed() < Duration::from_secs(10), "no hang");
    let (kind, msg) = c.error.expect("ConnectError event");
    assert_eq!(kind, ErrorKind::InvalidData, "{msg}");
    assert!(msg.contains("TLS"), "{msg}");
    assert!(msg.contains("certificate"), "says why: {msg}");
    assert!(c.got.is_empty());
}

pub fn wrong_server_name(b: &Backends) {
    let (ca, leaf) = ca_and_leaf(&["localhost"]);
    let srv = serve(b, vec![("default", leaf)], 0, &[]);
    let c = super::echo(b, srv.addr, &ca.cert_pem, "other.test", b"x");
    let (kind, msg) = c.error.expect("ConnectError event");
    assert_eq!(kind, ErrorKind::InvalidData, "{msg}");
    assert!(msg.contains("TLS"), "{msg}");
}

pub fn invalid_server_names(b: &Backends) {
    let mut ctx = Context::builder()
        .tls_backend(b.client.clone())
        .vhost(VhostBuilder::new("c").protocol("c", RawProtocol::new(Client::default())))
        .build()
        .expect("ctx");
    let addr: std::net::SocketAddr = "127.0.0.1:9".parse().expect("addr");
    for bad in ["", "not a name", "bad..dots"] {
        match ctx.connect(Connect::new(addr).tls(bad).protocol("c")) {
            Err(Error::Tls(TlsError::ServerName(n))) => assert_eq!(n, bad),
            other => panic!("{bad:?}: expected a server name error, got {other:?}"),
        }
    }
}
