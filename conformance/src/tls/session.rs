//! The sans-IO sessions driven against each other in memory, no sockets:
//! handshake, ALPN, SNI to vhost mapping (aliases, wildcards, fallback),
//! plaintext flow control, close_notify, error mapping, and configuration
//! errors that name the bad input.
//!
//! These scenarios must not use sockets or threads: every byte moves through
//! in-memory buffers, so failures are deterministic.

use std::io;

use lws_core::{TlsClientSpec, TlsError, TlsServerSpec, TlsSession, TlsVhost};
use lws_tls_rustls::testcert::{TestCa, TestCert};

use super::Backends;

/// Move every pending ciphertext byte from `from` to `to` and process it.
fn transfer(from: &mut dyn TlsSession, to: &mut dyn TlsSession) -> Result<usize, TlsError> {
    let mut wire = Vec::new();
    while from.wants_write() {
        from.write_tls(&mut wire).expect("write_tls to memory");
    }
    let mut rd: &[u8] = &wire;
    while !rd.is_empty() {
        match to.read_tls(&mut rd) {
            Ok(_) => to.process()?,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("read_tls: {e}"),
        }
    }
    Ok(wire.len() - rd.len())
}

/// Run the handshake to completion (or the first error).
fn handshake(c: &mut dyn TlsSession, s: &mut dyn TlsSession) -> Result<(), TlsError> {
    for _ in 0..10 {
        if !c.is_handshaking() && !s.is_handshaking() && !c.wants_write() && !s.wants_write() {
            return Ok(());
        }
        transfer(c, s)?;
        transfer(s, c)?;
    }
    panic!("handshake did not finish in 10 flights");
}

struct Fixture {
    ca: TestCa,
    certs: Vec<TestCert>,
}

fn fixture(n: usize) -> Fixture {
    let ca = TestCa::new("session test CA").expect("ca");
    let certs = (0..n)
        .map(|i| {
            let names = [format!("v{i}.test"), format!("*.w{i}.test")];
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            ca.leaf(&names).expect("leaf")
        })
        .collect();
    Fixture { ca, certs }
}

/// Vhost `v{i}` answers `v{i}.test` and `*.w{i}.test`.
fn acceptor(b: &Backends, f: &Fixture, alpn: &[&str]) -> Box<dyn lws_core::TlsAcceptor> {
    let specs: Vec<TlsServerSpec> = f
        .certs
        .iter()
        .map(|c| TlsServerSpec::from_pem(c.cert_pem.clone(), c.key_pem.clone()).alpn(alpn))
        .collect();
    let names: Vec<(String, Vec<String>)> = (0..specs.len())
        .map(|i| {
            (
                format!("v{i}"),
                vec![format!("v{i}.test"), format!("*.w{i}.test")],
            )
        })
        .collect();
    let vhosts: Vec<TlsVhost<'_>> = names
        .iter()
        .zip(&specs)
        .map(|((vhost, names), spec)| TlsVhost { vhost, names, spec })
        .collect();
    b.server.acceptor(&vhosts).expect("acceptor")
}

fn client(b: &Backends, f: &Fixture, alpn: &[&str], name: &str) -> Box<dyn TlsSession> {
    let spec = TlsClientSpec {
        ca_pem: f.ca.cert_pem.as_bytes().to_vec(),
        alpn: alpn.iter().map(|a| a.as_bytes().to_vec()).collect(),
        ..Default::default()
    };
    let connector = b.client.connector(&spec).expect("connector");
    connector.connect(name).expect("session")
}

fn served_vhost(b: &Backends, f: &Fixture, name: &str) -> Option<String> {
    let mut s = acceptor(b, f, &[]).accept();
    let mut c = client(b, f, &[], name);
    assert_eq!(s.vhost(), None, "nothing known before the handshake");
    handshake(&mut *c, &mut *s).expect("handshake");
    assert_eq!(c.vhost(), None, "clients have no vhost");
    s.vhost().map(str::to_owned)
}

pub fn sni_mapping(b: &Backends) {
    let f = fixture(3);
    assert_eq!(served_vhost(b, &f, "v1.test").as_deref(), Some("v1"));
    assert_eq!(served_vhost(b, &f, "v2.test").as_deref(), Some("v2"));
    assert_eq!(served_vhost(b, &f, "x.w2.test").as_deref(), Some("v2"));
    assert_eq!(served_vhost(b, &f, "y.w0.test").as_deref(), Some("v0"));
}

pub fn alpn_agreement(b: &Backends) {
    let f = fixture(1);
    let mut s = acceptor(b, &f, &["h2", "http/1.1"]).accept();
    let mut c = client(b, &f, &["http/1.1"], "v0.test");
    handshake(&mut *c, &mut *s).expect("handshake");
    assert_eq!(c.alpn(), Some(&b"http/1.1"[..]));
    assert_eq!(s.alpn(), Some(&b"http/1.1"[..]));

    let mut s = acceptor(b, &f, &["h2"]).accept();
    let mut c = client(b, &f, &["http/1.1"], "v0.test");
    match handshake(&mut *c, &mut *s) {
        Err(TlsError::Handshake(m)) => assert!(m.contains("protocol"), "{m}"),
        other => panic!("expected a handshake error, got {other:?}"),
    }
}

pub fn plaintext_flows(b: &Backends) {
    let f = fixture(1);
    let (mut s, mut c) = (acceptor(b, &f, &[]).accept(), client(b, &f, &[], "v0.test"));
    handshake(&mut *c, &mut *s).expect("handshake");
    let mut buf = [0u8; 64];
    assert_eq!(s.read_plain(&mut buf).expect("read"), 0, "nothing yet");
    c.write_plain(b"ping").expect("write");
    transfer(&mut *c, &mut *s).expect("transfer");
    assert_eq!(s.read_plain(&mut buf).expect("read"), 4);
    assert_eq!(&buf[..4], b"ping");
    assert_eq!(s.read_plain(&mut buf).expect("read"), 0, "drained");
}

pub fn intake_backpressure(b: &Backends) {
    let f = fixture(1);
    let (mut s, mut c) = (acceptor(b, &f, &[]).accept(), client(b, &f, &[], "v0.test"));
    handshake(&mut *c, &mut *s).expect("handshake");
    c.write_plain(&[7u8; 256 * 1024]).expect("write");
    let mut wire = Vec::new();
    while c.wants_write() {
        c.write_tls(&mut wire).expect("write_tls");
    }
    let mut rd: &[u8] = &wire;
    let mut reads = 0;
    let refused = loop {
        match s.read_tls(&mut rd) {
            Ok(_) => s.process().expect("process"),
            Err(e) => break e,
        }
        reads += 1;
        assert!(reads <= 8, "still reading with plaintext undelivered");
    };
    assert_eq!(refused.kind(), io::ErrorKind::WouldBlock, "{refused}");
    let taken = wire.len() - rd.len();
    assert!(taken <= 32 * 1024, "took {taken} bytes before pushing back");
    let mut got = 0;
    let mut buf = vec![0u8; 64 * 1024];
    while !rd.is_empty() || got < 256 * 1024 {
        match s.read_plain(&mut buf).expect("read_plain") {
            0 => {
                s.read_tls(&mut rd).expect("accepted again once drained");
                s.process().expect("process");
            }
            n => got += n,
        }
    }
    assert_eq!(got, 256 * 1024, "everything arrives in bounded steps");
}

pub fn close_notify(b: &Backends) {
    let f = fixture(1);
    let (mut s, mut c) = (acceptor(b, &f, &[]).accept(), client(b, &f, &[], "v0.test"));
    handshake(&mut *c, &mut *s).expect("handshake");
    c.write_plain(b"last words").expect("write");
    c.send_close_notify();
    transfer(&mut *c, &mut *s).expect("transfer");
    assert!(s.peer_closed());
    let mut buf = [0u8; 64];
    assert_eq!(
        s.read_plain(&mut buf).expect("read"),
        10,
        "data before close"
    );
    assert_eq!(s.read_plain(&mut buf).expect("read"), 0, "then nothing");
    assert_eq!(s.read_tls(&mut io::empty()).expect("after close"), 0);
}

pub fn garbage_alert(b: &Backends) {
    let f = fixture(1);
    let mut s = acceptor(b, &f, &[]).accept();
    // A TLS handshake record holding a truncated ClientHello.
    let mut garbage: &[u8] = b"\x16\x03\x01\x00\x08\x01\x00\x00\x04\x03\x03\x00\x00";
    s.read_tls(&mut garbage).expect("read");
    match s.process() {
        Err(TlsError::Handshake(_)) => {}
        other => panic!("expected a handshake error, got {other:?}"),
    }
    assert!(s.wants_write(), "an alert is queued for the peer");
}

fn acceptor_error(b: &Backends, cert_pem: &str, key_pem: &str) -> String {
    let spec = TlsServerSpec::from_pem(cert_pem, key_pem);
    let names = vec!["bad.test".to_owned()];
    let vhosts = [TlsVhost {
        vhost: "badhost",
        names: &names,
        spec: &spec,
    }];
    match b.server.acceptor(&vhosts) {
        Err(TlsError::Config(m)) => m,
        Err(e) => panic!("expected a config error, got {e}"),
        Ok(_) => panic!("bad PEM accepted"),
    }
}

pub fn bad_server_config(b: &Backends) {
    let f = fixture(2);
    let (good, other) = (&f.certs[0], &f.certs[1]);
    let m = acceptor_error(b, "not pem", &good.key_pem);
    assert!(m.contains("\"badhost\" certificate"), "{m}");
    let m = acceptor_error(b, &good.cert_pem, "not pem either");
    assert!(m.contains("\"badhost\" private key"), "{m}");
    let m = acceptor_error(b, &good.cert_pem, &other.key_pem);
    assert!(m.contains("\"badhost\""), "mismatched key: {m}");
}

pub fn bad_client_config(b: &Backends) {
    let bad_ca = TlsClientSpec {
        ca_pem: b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n".to_vec(),
        ..Default::default()
    };
    match b.client.connector(&bad_ca) {
        Err(TlsError::Config(m)) => assert!(m.contains("ca_pem"), "{m}"),
        Err(e) => panic!("expected a config error, got {e}"),
        Ok(_) => panic!("bad CA accepted"),
    }
    let f = fixture(1);
    let connector = b
        .client
        .connector(&TlsClientSpec {
            ca_pem: f.ca.cert_pem.into_bytes(),
            ..Default::default()
        })
        .expect("connector");
    assert!(matches!(connector.connect(""), Err(TlsError::ServerName(n)) if n.is_empty()));
    assert!(
        connector.connect("127.0.0.1").is_ok(),
        "IP addresses are names"
    );
    let mut session = connector.connect("localhost").expect("session");
    assert!(
        session.is_handshaking() && session.wants_write(),
        "ClientHello ready"
    );
    let mut sink = Vec::new();
    session.write_tls(&mut sink).expect("write_tls");
    assert_eq!(sink.first(), Some(&0x16), "a TLS handshake record");
}
