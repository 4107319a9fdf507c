//! TLS over real loopback sockets with the native loop: echo, ALPN, SNI
//! across vhosts sharing a port, hostile client hellos, client errors, and
//! real peers (Python's ssl module, curl against HTTPS).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, mpsc};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use lws_core::{
    CloseReason, ConnCx, Connect, Context, ContextBuilder, Endpoint, Remote, RunLoop,
    TlsClientSpec, TlsServerSpec, VhostBuilder,
};
use lws_loop_poll::PollLoop;
use lws_role_raw::{OpenKind, RawEvent, RawHandler, RawProtocol};
use lws_tls_rustls::RustlsBackend;
use lws_tls_rustls::testcert::{TestCa, TestCert};

struct Server {
    remote: Remote,
    thread: Option<JoinHandle<()>>,
    opened: mpsc::Receiver<(String, Option<Vec<u8>>)>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.remote.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Echo handler reporting (vhost tag, ALPN) for every opened connection.
struct Echo {
    tag: String,
    report: mpsc::Sender<(String, Option<Vec<u8>>)>,
}

impl RawHandler for Echo {
    type Session = ();
    fn on_event(&mut self, cx: &mut ConnCx<'_>, _: &mut (), ev: RawEvent<'_>) {
        match ev {
            RawEvent::Opened(_) => {
                let _ = self
                    .report
                    .send((self.tag.clone(), cx.alpn().map(<[u8]>::to_vec)));
            }
            RawEvent::Rx(d) => {
                let _ = cx.write(d);
            }
            _ => {}
        }
    }
}

fn spec(cert: &TestCert, alpn: &[&str]) -> TlsServerSpec {
    TlsServerSpec::from_pem(cert.cert_pem.clone(), cert.key_pem.clone())
        .alpn(alpn.iter().map(|a| a.as_bytes()))
}

/// Serve TLS echo vhosts `(name, cert)` all on `port` (0: any).
fn serve(
    vhosts: Vec<(&'static str, TestCert)>,
    port: u16,
    alpn: &'static [&'static str],
) -> (Server, SocketAddr) {
    let (tx, rx) = mpsc::channel();
    let (otx, orx) = mpsc::channel();
    let thread = thread::spawn(move || {
        let mut b = Context::builder().tls_backend(RustlsBackend::shared());
        for (name, cert) in &vhosts {
            let echo = Echo {
                tag: (*name).to_owned(),
                report: otx.clone(),
            };
            b = b.vhost(
                VhostBuilder::new(*name)
                    .listen(Endpoint::Tcp(SocketAddr::from(([127, 0, 0, 1], port))))
                    .tls(spec(cert, alpn))
                    .protocol("echo", RawProtocol::new(echo)),
            );
        }
        let mut ctx = b.build().expect("server context");
        let addr = match ctx.bound_endpoints(vhosts[0].0).expect("vhost").first() {
            Some(Endpoint::Tcp(a)) => *a,
            _ => panic!("no listener"),
        };
        tx.send((addr, ctx.remote())).expect("report");
        PollLoop::new().expect("loop").run(&mut ctx).expect("run");
    });
    let (addr, remote) = rx.recv_timeout(Duration::from_secs(10)).expect("server up");
    (
        Server {
            remote,
            thread: Some(thread),
            opened: orx,
        },
        addr,
    )
}

/// Client: sends `payload` once connected, collects the echo, stops when
/// it has it all (or on a connect error).
#[derive(Default)]
struct Client {
    payload: Vec<u8>,
    got: Vec<u8>,
    alpn: Option<Vec<u8>>,
    error: Option<String>,
}

impl RawHandler for Client {
    type Session = ();
    fn on_event(&mut self, cx: &mut ConnCx<'_>, _: &mut (), ev: RawEvent<'_>) {
        match ev {
            RawEvent::Opened(OpenKind::Connected) => {
                self.alpn = cx.alpn().map(<[u8]>::to_vec);
                let data = self.payload.clone();
                cx.write(&data).expect("write");
            }
            RawEvent::Rx(d) => {
                self.got.extend_from_slice(d);
                if self.got.len() >= self.payload.len() {
                    cx.close(CloseReason::Normal);
                    cx.cx().stop();
                }
            }
            RawEvent::ConnectError(e) => {
                self.error = Some(e.to_string());
                cx.cx().stop();
            }
            _ => {}
        }
    }
}

fn client(ca_pem: &str, alpn: &[&str], connect: Connect, payload: Vec<u8>) -> Client {
    let spec = TlsClientSpec {
        ca_pem: ca_pem.as_bytes().to_vec(),
        client_cert: None,
        alpn: alpn.iter().map(|a| a.as_bytes().to_vec()).collect(),
        insecure_skip_verify: false,
    };
    let handler = Client {
        payload,
        ..Default::default()
    };
    let b: ContextBuilder = Context::builder()
        .tls_backend(RustlsBackend::shared())
        .tls_client(spec);
    let mut ctx = b
        .vhost(VhostBuilder::new("c").protocol("c", RawProtocol::new(handler)))
        .build()
        .expect("client ctx");
    let remote = ctx.remote();
    let dog = thread::spawn(move || {
        thread::sleep(Duration::from_secs(30));
        remote.stop();
    });
    ctx.connect(connect.protocol("c")).expect("connect");
    PollLoop::new().expect("loop").run(&mut ctx).expect("run");
    drop(dog);
    let p = ctx
        .protocol_mut::<RawProtocol<Client>>("c", "c")
        .expect("proto");
    std::mem::take(p.handler_mut())
}

fn ca_and_leaf(names: &[&str]) -> (TestCa, TestCert) {
    let ca = TestCa::new("lws test CA").expect("ca");
    let leaf = ca.leaf(names).expect("leaf");
    (ca, leaf)
}

#[test]
fn tls_echo_one_mebibyte_and_alpn() {
    let (ca, leaf) = ca_and_leaf(&["localhost"]);
    let (srv, addr) = serve(vec![("default", leaf)], 0, &["h2", "http/1.1"]);
    let payload: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 253) as u8).collect();
    let c = client(
        &ca.cert_pem,
        &["http/1.1"],
        Connect::new(addr).tls("localhost"),
        payload.clone(),
    );
    assert_eq!(c.error, None);
    assert!(
        c.got == payload,
        "1 MiB echoed intact over TLS ({} bytes back)",
        c.got.len()
    );
    assert_eq!(
        c.alpn.as_deref(),
        Some(&b"http/1.1"[..]),
        "client sees ALPN"
    );
    let (_, server_alpn) = srv
        .opened
        .recv_timeout(Duration::from_secs(5))
        .expect("server opened");
    assert_eq!(
        server_alpn.as_deref(),
        Some(&b"http/1.1"[..]),
        "server sees ALPN"
    );
}

/// A plain rustls client on a std socket, to inspect the certificate.
fn peer_cert(addr: SocketAddr, ca_pem: &str, sni: &str) -> Vec<u8> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.expect("ca")).expect("add");
    }
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(sni.to_owned()).expect("name");
    let conn = rustls::ClientConnection::new(Arc::new(cfg), name).expect("conn");
    let sock = TcpStream::connect(addr).expect("connect");
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut tls = rustls::StreamOwned::new(conn, sock);
    tls.write_all(b"x").expect("handshake + write");
    let mut b = [0u8; 1];
    tls.read_exact(&mut b).expect("echo");
    tls.conn
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.to_vec())
        .expect("peer cert")
}

fn der_of(pem: &str) -> Vec<u8> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes())
        .expect("pem")
        .to_vec()
}

#[test]
fn sni_selects_the_vhost_and_its_certificate_on_a_shared_port() {
    let ca = TestCa::new("lws test CA").expect("ca");
    let (a, b) = (
        ca.leaf(&["a.test"]).expect("a"),
        ca.leaf(&["b.test"]).expect("b"),
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("probe")
        .local_addr()
        .expect("addr")
        .port();
    let (srv, addr) = serve(
        vec![("a.test", a.clone()), ("b.test", b.clone())],
        port,
        &[],
    );
    assert_eq!(
        peer_cert(addr, &ca.cert_pem, "b.test"),
        der_of(&b.cert_pem),
        "b's certificate for SNI b.test"
    );
    assert_eq!(
        srv.opened
            .recv_timeout(Duration::from_secs(5))
            .expect("open")
            .0,
        "b.test",
        "served by vhost b"
    );
    assert_eq!(peer_cert(addr, &ca.cert_pem, "a.test"), der_of(&a.cert_pem));
    assert_eq!(
        srv.opened
            .recv_timeout(Duration::from_secs(5))
            .expect("open")
            .0,
        "a.test"
    );
    let c = client(
        &ca.cert_pem,
        &[],
        Connect::new(addr).tls("b.test"),
        b"via lws client".to_vec(),
    );
    assert_eq!(c.got, b"via lws client");
    assert_eq!(
        srv.opened
            .recv_timeout(Duration::from_secs(5))
            .expect("open")
            .0,
        "b.test"
    );
}

#[test]
fn bad_client_hello_closes_only_that_connection() {
    let (ca, leaf) = ca_and_leaf(&["localhost"]);
    let (_srv, addr) = serve(vec![("default", leaf)], 0, &[]);
    let mut bad = TcpStream::connect(addr).expect("connect");
    bad.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    bad.write_all(b"GET / HTTP/1.1\r\nHost: not-tls\r\n\r\n")
        .expect("garbage");
    let good = client(
        &ca.cert_pem,
        &[],
        Connect::new(addr).tls("localhost"),
        b"still fine".to_vec(),
    );
    assert_eq!(
        good.got, b"still fine",
        "a concurrent good client completes"
    );
    let mut rest = Vec::new();
    let closed = match bad.read_to_end(&mut rest) {
        Ok(_) => true,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    };
    assert!(closed, "the bad connection was closed");
    assert!(
        rest.len() < 64,
        "at most an alert came back, got {} bytes",
        rest.len()
    );
}

#[test]
fn client_errors_untrusted_certificate_and_bad_server_name() {
    let (_ca, leaf) = ca_and_leaf(&["localhost"]);
    let other_ca = TestCa::new("someone else").expect("ca");
    let (_srv, addr) = serve(vec![("default", leaf)], 0, &[]);
    let c = client(
        &other_ca.cert_pem,
        &[],
        Connect::new(addr).tls("localhost"),
        b"x".to_vec(),
    );
    let err = c.error.expect("connect error event");
    assert!(err.contains("TLS"), "{err}");
    let mut ctx = Context::builder()
        .tls_backend(RustlsBackend::shared())
        .vhost(VhostBuilder::new("c").protocol("c", RawProtocol::new(Client::default())))
        .build()
        .expect("ctx");
    assert!(
        ctx.connect(Connect::new(addr).tls("").protocol("c"))
            .is_err(),
        "empty server name refused"
    );
}

const PY_SSL: &str = r#"
import socket, ssl, sys
port, cafile = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=cafile)
with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        s.sendall(b"hello from python ssl\n")
        got = b""
        while len(got) < 22:
            got += s.recv(100)
        print(got.decode().strip(), s.version())
"#;

#[test]
fn python_ssl_client_interop() {
    let (ca, leaf) = ca_and_leaf(&["localhost"]);
    let (_srv, addr) = serve(vec![("default", leaf)], 0, &[]);
    let dir = std::env::temp_dir().join(format!("lws-tls-py-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let cafile = dir.join("ca.pem");
    std::fs::write(&cafile, &ca.cert_pem).expect("ca file");
    let out = std::process::Command::new("python3")
        .args(["-c", PY_SSL, &addr.port().to_string()])
        .arg(&cafile)
        .output()
        .expect("python3");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("hello from python ssl TLSv1."), "{text}");
}
