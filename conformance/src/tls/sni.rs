//! SNI across vhosts sharing one port: the client's server name selects
//! both the certificate presented and the vhost whose handler serves the
//! connection; no or an unknown name falls back to the first vhost.
//!
//! Both leaf certificates are also valid for `fallback.test`, which no
//! vhost claims, so a verifying client accepts either for that name and
//! the certificate it receives shows which vhost the server chose.
//!
//! These scenarios must not bind anything but 127.0.0.1 or wait without bound.

use super::{Backends, Server, der_of, free_port, peer_cert, serve};
use lws_tls_rustls::testcert::{TestCa, TestCert};

struct Setup {
    ca: TestCa,
    a: TestCert,
    b: TestCert,
    srv: Server,
}

/// Vhosts `a.test` (first) and `b.test` on one freshly probed port.
fn setup(b: &Backends) -> Setup {
    let ca = TestCa::new("lws SNI test CA").expect("ca");
    let a = ca.leaf(&["a.test", "fallback.test"]).expect("a");
    let cert_b = ca.leaf(&["b.test", "fallback.test"]).expect("b");
    let srv = serve(
        b,
        vec![("a.test", a.clone()), ("b.test", cert_b.clone())],
        free_port(),
        &[],
    );
    Setup {
        ca,
        a,
        b: cert_b,
        srv,
    }
}

pub fn selects_certificate_and_vhost(b: &Backends) {
    let s = setup(b);
    let cert = peer_cert(s.srv.addr, &s.ca.cert_pem, "b.test", true);
    assert!(cert == der_of(&s.b.cert_pem), "b's certificate for b.test");
    assert_eq!(s.srv.next_opened().vhost, "b.test", "served by vhost b");
    let cert = peer_cert(s.srv.addr, &s.ca.cert_pem, "a.test", true);
    assert!(cert == der_of(&s.a.cert_pem), "a's certificate for a.test");
    assert_eq!(s.srv.next_opened().vhost, "a.test", "served by vhost a");
}

pub fn lws_client_reaches_second_vhost(b: &Backends) {
    let s = setup(b);
    let c = super::echo(b, s.srv.addr, &s.ca.cert_pem, "b.test", b"via lws");
    assert_eq!((c.error, c.got.as_slice()), (None, &b"via lws"[..]));
    assert_eq!(s.srv.next_opened().vhost, "b.test");
}

pub fn unknown_name_falls_back(b: &Backends) {
    let s = setup(b);
    let cert = peer_cert(s.srv.addr, &s.ca.cert_pem, "fallback.test", true);
    assert!(cert == der_of(&s.a.cert_pem), "first vhost's certificate");
    assert_eq!(s.srv.next_opened().vhost, "a.test");
}

pub fn missing_sni_falls_back(b: &Backends) {
    let s = setup(b);
    let cert = peer_cert(s.srv.addr, &s.ca.cert_pem, "fallback.test", false);
    assert!(cert == der_of(&s.a.cert_pem), "first vhost's certificate");
    assert_eq!(s.srv.next_opened().vhost, "a.test");
}

pub fn ignores_ascii_case(b: &Backends) {
    let s = setup(b);
    let cert = peer_cert(s.srv.addr, &s.ca.cert_pem, "B.Test", true);
    assert!(cert == der_of(&s.b.cert_pem));
    assert_eq!(s.srv.next_opened().vhost, "b.test");
}
