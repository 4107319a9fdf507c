//! HTTP/1.1 over TLS: curl (`--cacert`) against the http1 server, and the
//! lws HTTP client against the same server.
//!
//! These scenarios must not bind anything but 127.0.0.1, wait without bound, or
//! leave their temporary files behind.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use crate::peer::Watchdog;
use lws_core::{Context, Endpoint, Remote, RunLoop, TlsClientSpec, TlsServerSpec, VhostBuilder};
use lws_loop_poll::PollLoop;
use lws_role_http::HttpProtocol;
use lws_role_http::client::{
    self, ClientCx, ClientEvent, ClientRequest, HttpClientHandler, HttpClientProtocol,
};
use lws_tls_rustls::testcert::TestCa;

use super::Backends;

struct Https {
    addr: SocketAddr,
    remote: Remote,
    ca_file: std::path::PathBuf,
    dir: std::path::PathBuf,
    ca_pem: String,
    thread: Option<thread::JoinHandle<()>>,
}

impl Drop for Https {
    fn drop(&mut self) {
        self.remote.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn https_server(b: &Backends) -> Https {
    https_server_alpn(b, &["http/1.1"])
}

fn https_server_alpn(b: &Backends, alpn: &[&str]) -> Https {
    let alpn: Vec<String> = alpn.iter().map(|a| (*a).to_owned()).collect();
    let ca = TestCa::new("lws https test CA").expect("ca");
    let leaf = ca.leaf(&["localhost"]).expect("leaf");
    let dir = std::env::temp_dir().join(format!(
        "lws-https-{}-{:?}",
        std::process::id(),
        thread::current().id()
    ));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("index.html"), b"<h1>over tls</h1>\n").expect("index");
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, &ca.cert_pem).expect("ca");
    let (tx, rx) = mpsc::channel();
    let root = dir.clone();
    let backend = b.server.clone();
    let thread = thread::spawn(move || {
        let spec = TlsServerSpec::from_pem(leaf.cert_pem, leaf.key_pem).alpn(&alpn);
        let vh = VhostBuilder::new("localhost")
            .listen(Endpoint::Tcp(SocketAddr::from(([127, 0, 0, 1], 0))))
            .tls(spec)
            .protocol("http", HttpProtocol::files(&root).expect("files"));
        let mut ctx = Context::builder()
            .tls_backend(backend)
            .vhost(vh)
            .build()
            .expect("ctx");
        let addr = match ctx.bound_endpoints("localhost").expect("vhost").first() {
            Some(Endpoint::Tcp(a)) => *a,
            _ => panic!("no listener"),
        };
        tx.send((addr, ctx.remote())).expect("report");
        PollLoop::new().expect("loop").run(&mut ctx).expect("run");
    });
    let (addr, remote) = rx.recv_timeout(Duration::from_secs(10)).expect("up");
    Https {
        addr,
        remote,
        ca_file,
        dir,
        ca_pem: ca.cert_pem,
        thread: Some(thread),
    }
}

/// `curl -v --cacert` for `paths` on `srv` (as `localhost`): body and log.
fn curl(srv: &Https, paths: &[&str]) -> (String, String) {
    let port = srv.addr.port();
    let urls: Vec<String> = paths
        .iter()
        .map(|p| format!("https://localhost:{port}{p}"))
        .collect();
    let out = std::process::Command::new("curl")
        .args(["-sS", "-v", "--max-time", "10", "--cacert"])
        .arg(&srv.ca_file)
        .args(["--resolve", &format!("localhost:{port}:127.0.0.1")])
        .args(&urls)
        .output()
        .expect("curl");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn curl_with_cacert(b: &Backends) {
    if !crate::peer::installed("curl") {
        return;
    }
    let (body, log) = curl(&https_server(b), &["/"]);
    assert_eq!(body, "<h1>over tls</h1>\n", "{log}");
    assert!(
        log.contains("server accepted http/1.1"),
        "ALPN negotiated: {log}"
    );
}

/// ALPN `h2` offered first: curl negotiates HTTP/2 and gets the same
/// file, through either backend.
pub fn curl_h2_over_alpn(b: &Backends) {
    if !crate::peer::installed("curl") {
        return;
    }
    let srv = https_server_alpn(b, &["h2", "http/1.1"]);
    let (body, log) = curl(&srv, &["/", "/index.html"]);
    assert_eq!(body, "<h1>over tls</h1>\n<h1>over tls</h1>\n", "{log}");
    assert!(log.contains("server accepted h2"), "ALPN h2: {log}");
    assert!(log.contains("< HTTP/2 200"), "{log}");
    assert!(
        log.contains("Re-using existing connection"),
        "two streams, one connection: {log}"
    );
}

#[derive(Default)]
struct Fetch {
    status: Option<u16>,
    body: Vec<u8>,
    error: Option<String>,
}

impl HttpClientHandler for Fetch {
    type Session = ();
    fn on_event(&mut self, cx: &mut ClientCx<'_, '_>, _: &mut (), ev: ClientEvent<'_>) {
        match ev {
            ClientEvent::Response(h) => self.status = Some(h.status),
            ClientEvent::Body(d) => self.body.extend_from_slice(d),
            ClientEvent::Done => cx.conn().cx().stop(),
            ClientEvent::Error(e) => {
                self.error = Some(e.to_string());
                cx.conn().cx().stop();
            }
            _ => {}
        }
    }
}

fn fetch(b: &Backends, url: &str, ca_pem: &str) -> Fetch {
    let spec = TlsClientSpec {
        ca_pem: ca_pem.as_bytes().to_vec(),
        ..Default::default()
    };
    fetch_with(b, url, spec)
}

/// GET `url` with the lws HTTP client configured by `spec`.
fn fetch_with(b: &Backends, url: &str, spec: TlsClientSpec) -> Fetch {
    let mut ctx = Context::builder()
        .tls_backend(b.client.clone())
        .tls_client(spec)
        .vhost(VhostBuilder::new("c").protocol("fetch", HttpClientProtocol::new(Fetch::default())))
        .build()
        .expect("ctx");
    let dog = Watchdog::arm(ctx.remote(), Duration::from_secs(20));
    client::send(&mut ctx, "fetch", ClientRequest::get(url).expect("url")).expect("send");
    PollLoop::new().expect("loop").run(&mut ctx).expect("run");
    drop(dog);
    std::mem::take(
        ctx.protocol_mut::<HttpClientProtocol<Fetch>>("c", "fetch")
            .expect("p")
            .handler_mut(),
    )
}

pub fn lws_client_and_failure_event(b: &Backends) {
    let srv = https_server(b);
    // "localhost" resolves to the loopback address the server listens on.
    let url = format!("https://localhost:{}/", srv.addr.port());
    let ok = fetch(b, &url, &srv.ca_pem);
    assert_eq!((ok.status, ok.error.as_deref()), (Some(200), None));
    assert_eq!(ok.body, b"<h1>over tls</h1>\n");
    let stranger = TestCa::new("not the server's CA").expect("ca");
    let bad = fetch(b, &url, &stranger.cert_pem);
    let err = bad.error.expect("TLS error event");
    assert!(err.starts_with("TLS failed"), "{err}");
}

const PY_HTTPS: &str = r#"
import http.server, ssl, sys, threading
port, cert, key, client_ca = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        peer = self.connection.getpeercert()
        cn = dict(x[0] for x in peer["subject"]).get("commonName", "?") if peer else "none"
        body = ("client cert ok: %s\n" % ("yes" if peer else "no")).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", port), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ctx.load_verify_locations(client_ca)
ctx.verify_mode = ssl.CERT_REQUIRED
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print("ready", flush=True)
srv.serve_forever()
"#;

/// The lws client against Python's HTTPS server, which requires a client
/// certificate: the client presents the one from its `TlsClientSpec`.
pub fn python_server_with_client_certificate(b: &Backends) {
    if !crate::peer::installed("python3") {
        return;
    }
    use std::io::BufRead;
    let ca = TestCa::new("py server CA").expect("ca");
    let server_leaf = ca.leaf(&["localhost"]).expect("leaf");
    let client_leaf = ca.leaf(&["lws-client"]).expect("client leaf");
    let dir = std::env::temp_dir().join(format!("lws-pyhttps-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let w = |n: &str, c: &str| {
        let p = dir.join(n);
        std::fs::write(&p, c).expect("write");
        p
    };
    let (cert, key, cafile) = (
        w("cert.pem", &server_leaf.cert_pem),
        w("key.pem", &server_leaf.key_pem),
        w("ca.pem", &ca.cert_pem),
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("probe")
        .local_addr()
        .expect("addr")
        .port();
    let mut child = std::process::Command::new("python3")
        .args(["-c", PY_HTTPS, &port.to_string()])
        .args([&cert, &key, &cafile])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("python3");
    let mut ready = String::new();
    let out = child.stdout.take().expect("stdout");
    std::io::BufReader::new(out)
        .read_line(&mut ready)
        .expect("ready line");
    assert_eq!(ready.trim(), "ready");
    let spec = TlsClientSpec {
        ca_pem: ca.cert_pem.as_bytes().to_vec(),
        client_cert: Some((
            client_leaf.cert_pem.into_bytes(),
            client_leaf.key_pem.into_bytes(),
        )),
        alpn: Vec::new(),
        insecure_skip_verify: false,
    };
    let url = format!("https://localhost:{port}/");
    let f = fetch_with(b, &url, spec);
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(f.error, None);
    assert_eq!(f.status, Some(200));
    assert_eq!(String::from_utf8_lossy(&f.body), "client cert ok: yes\n");
}
