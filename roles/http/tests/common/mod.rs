//! Test server for the http1 integration tests: a real context on the
//! native loop, on its own thread, listening on 127.0.0.1:0, serving a temp
//! directory at `/files/` and a few dynamic endpoints:
//! - `POST /upload`: answers `received N bytes` (body streamed in)
//! - `POST /echo`: answers the body
//! - `POST /pause-upload`: like `/upload`, pausing the body once
//! - `GET /slow-stream`: a chunked response written over several writables
//! - `POST /count`: answers how many requests its exchange state has seen
//!   (always 1: the state is per exchange) and the body it collected
//! - `GET /close`: the handler abandons the exchange (`HttpCx::close`)
//! - anything else: 404
#![allow(dead_code)]

pub mod h2raw;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use lws_core::{Context, Endpoint, Remote, RunLoop, VhostBuilder};
use lws_loop_poll::PollLoop;
use lws_role_http::{HttpCx, HttpEvent, HttpHandler, HttpProtocol, Mount, ServerConfig};

/// Per-exchange state.
#[derive(Default)]
pub struct Exchange {
    /// `Request` events this state has seen.
    requests: u32,
    received: u64,
    body: Vec<u8>,
    chunks_left: u32,
    /// `/pause-upload`: pauses the body at its first chunk, resumes on
    /// the next writable; counts the pauses.
    pause_next: bool,
    paused: bool,
    pauses: u32,
}

pub struct App;

impl HttpHandler for App {
    type Exchange = Exchange;

    fn on_event(&mut self, cx: &mut HttpCx<'_, '_>, s: &mut Exchange, ev: HttpEvent<'_>) {
        match ev {
            HttpEvent::Request(r) => {
                s.requests += 1;
                if r.path() == "/close" {
                    return cx.close();
                }
                if r.method() == "GET" && r.path() == "/slow-stream" {
                    s.chunks_left = 5;
                    cx.start_response(200, &[("Content-Type", "text/plain")], None)
                        .expect("start");
                    cx.request_writable();
                }
                s.pause_next = r.path() == "/pause-upload";
            }
            HttpEvent::Body(d) => {
                assert!(!s.paused, "no body delivered while paused");
                if s.pause_next {
                    s.pause_next = false;
                    s.paused = true;
                    s.pauses += 1;
                    cx.pause_body(true);
                    cx.request_writable();
                }
                s.received += d.len() as u64;
                if s.body.len() < 1 << 20 {
                    s.body.extend_from_slice(d);
                }
            }
            HttpEvent::Writable if s.paused => {
                s.paused = false;
                cx.pause_body(false);
            }
            HttpEvent::Writable if s.chunks_left > 0 => {
                s.chunks_left -= 1;
                cx.write_body(format!("chunk {}\n", 5 - s.chunks_left).as_bytes())
                    .expect("chunk");
                if s.chunks_left == 0 {
                    cx.finish().expect("finish");
                } else {
                    cx.request_writable();
                }
            }
            HttpEvent::BodyEnd if !cx.response_done() && s.chunks_left == 0 => {
                let (method, path) = match cx.request() {
                    Some(r) => (r.method().to_owned(), r.path().to_owned()),
                    None => return,
                };
                let text = [("Content-Type", "text/plain")];
                let r = match (method.as_str(), path.as_str()) {
                    ("POST" | "PUT", "/upload") => cx.respond(
                        200,
                        &text,
                        format!("received {} bytes\n", s.received).as_bytes(),
                    ),
                    ("POST", "/pause-upload") => cx.respond(
                        200,
                        &text,
                        format!("received {} bytes after {} pause\n", s.received, s.pauses)
                            .as_bytes(),
                    ),
                    ("POST", "/echo") => cx.respond(200, &text, &s.body),
                    ("POST", "/count") => cx.respond(
                        200,
                        &text,
                        format!(
                            "requests {} body {}",
                            s.requests,
                            String::from_utf8_lossy(&s.body)
                        )
                        .as_bytes(),
                    ),
                    ("GET", "/redirect") => cx.redirect(302, "/files/hello.txt"),
                    _ => cx.respond(404, &text, b"not found\n"),
                };
                r.expect("respond");
            }
            _ => {}
        }
    }
}

pub struct Server {
    pub addr: SocketAddr,
    pub remote: Remote,
    pub dir: PathBuf,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.remote.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Start a server with `config` (mounts are added here).
pub fn start(config: ServerConfig) -> Server {
    start_protocol(move |dir| {
        HttpProtocol::new(App)
            .config(config)
            .mount(Mount::dir("/files/", dir))
            .expect("mount")
    })
}

/// Start a server with the protocol `make` builds for the test files
/// directory (on the server thread).
pub fn start_protocol<H: HttpHandler>(
    make: impl FnOnce(&std::path::Path) -> HttpProtocol<H> + Send + 'static,
) -> Server {
    let dir = std::env::temp_dir().join(format!(
        "lws-http1-test-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(dir.join("sub")).expect("tmp dir");
    std::fs::write(dir.join("hello.txt"), b"hello, world\n").expect("file");
    std::fs::write(dir.join("sub/index.html"), b"<h1>sub</h1>\n").expect("file");
    let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(dir.join("big.bin"), &big).expect("file");
    let (tx, rx) = mpsc::channel();
    let d = dir.clone();
    let thread = std::thread::spawn(move || {
        let vh = VhostBuilder::new("default")
            .listen(Endpoint::Tcp(SocketAddr::from(([127, 0, 0, 1], 0))))
            .protocol("http", make(&d));
        let mut ctx = Context::builder().vhost(vh).build().expect("context");
        let addr = match ctx.bound_endpoints("default").expect("vhost").first() {
            Some(Endpoint::Tcp(a)) => *a,
            _ => panic!("no listener"),
        };
        tx.send((addr, ctx.remote())).expect("report");
        PollLoop::new().expect("loop").run(&mut ctx).expect("run");
    });
    let (addr, remote) = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("server started");
    Server {
        addr,
        remote,
        dir,
        thread: Some(thread),
    }
}

/// Send raw bytes, read the whole answer until the server closes (or the
/// 10 s timeout), return it as text.
pub fn raw(addr: SocketAddr, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The status code of the first response in `text`.
pub fn status(text: &str) -> u16 {
    text.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Whether a good client is still served: GET /files/hello.txt.
pub fn good_client_served(addr: SocketAddr) -> bool {
    let r = raw(
        addr,
        b"GET /files/hello.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    status(&r) == 200 && r.ends_with("hello, world\n")
}
