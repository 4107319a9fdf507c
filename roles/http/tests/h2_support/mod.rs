//! Shared by the HTTP/2 limit tests: the raw HTTP/2 client of
//! `tests/common/h2raw.rs`, frame builders, and a server
//! whose handler answers from a static 1 MB body:
//! - `GET /big`: `respond` with the 1 MB body
//! - `GET /stream`: [`STREAM_LEN`] bytes by `write_body` in 64 KiB writes
//!   on `Writable`, counting what was accepted and whether a write was
//!   refused (back-pressure)
//! - `GET /empty`: 204, no body
//! - `POST /count`: answers the number of body bytes received
//! - anything else: `ok`
//!
//! Servers bind 127.0.0.1 only and stop when dropped.
#![allow(dead_code)]

// The one raw client of these tests (shared with tests/common).
#[path = "../common/h2raw.rs"]
mod h2raw;
pub use h2raw::{Raw, goaway, raw_frame, request_block};

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use lws_core::{Context, Endpoint, Remote, RunLoop, VhostBuilder};
use lws_loop_poll::PollLoop;
use lws_role_http::h2::frame::{FrameHead, flag, kind, setting};
use lws_role_http::{HttpCx, HttpError, HttpEvent, HttpHandler, HttpProtocol, ServerConfig};

pub static BIG: [u8; 1_000_000] = [b'x'; 1_000_000];
pub const STREAM_LEN: usize = 2_000_000;
const WRITE: usize = 64 * 1024;

/// What the `/stream` handler saw.
#[derive(Default)]
pub struct Seen {
    pub accepted: AtomicUsize,
    pub refused: AtomicBool,
}

#[derive(Default)]
pub struct Exchange {
    streamed: usize,
    received: usize,
}

struct App(Arc<Seen>);

impl HttpHandler for App {
    type Exchange = Exchange;

    fn on_event(&mut self, cx: &mut HttpCx<'_, '_>, s: &mut Exchange, ev: HttpEvent<'_>) {
        match ev {
            HttpEvent::Request(r) => {
                let r = match r.path() {
                    "/big" => cx.respond(200, &[], &BIG),
                    "/empty" => cx.respond(204, &[], b""),
                    "/count" => Ok(()), // answered at BodyEnd
                    "/stream" => {
                        cx.request_writable();
                        cx.start_response(200, &[], Some(STREAM_LEN as u64))
                    }
                    _ => cx.respond(200, &[], b"ok\n"),
                };
                r.expect("response");
            }
            HttpEvent::Body(d) => s.received += d.len(),
            HttpEvent::BodyEnd if cx.request().is_some_and(|r| r.path() == "/count") => {
                let n = s.received.to_string();
                cx.respond(200, &[], n.as_bytes()).expect("count");
            }
            HttpEvent::Writable => {
                while s.streamed < STREAM_LEN {
                    let n = WRITE.min(STREAM_LEN - s.streamed);
                    match cx.write_body(&BIG[..n]) {
                        Ok(()) => {
                            s.streamed += n;
                            self.0.accepted.fetch_add(n, Ordering::SeqCst);
                        }
                        Err(HttpError::Write(lws_core::Error::OutputLimit { .. })) => {
                            // Nothing written; a Writable follows.
                            self.0.refused.store(true, Ordering::SeqCst);
                            return;
                        }
                        Err(e) => panic!("write_body: {e}"),
                    }
                }
                cx.finish().expect("finish");
            }
            _ => {}
        }
    }
}

pub struct Server {
    pub addr: SocketAddr,
    pub remote: Remote,
    pub seen: Arc<Seen>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.remote.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Start a server with `config`; `close_timeout` bounds a graceful
/// close's drain (long, so that a connection left open shows).
pub fn start(config: ServerConfig, close_timeout: Duration) -> Server {
    let (tx, rx) = mpsc::channel();
    let seen = Arc::new(Seen::default());
    let app = App(seen.clone());
    let thread = std::thread::spawn(move || {
        let http = HttpProtocol::new(app).config(config);
        let vh = VhostBuilder::new("default")
            .listen(Endpoint::Tcp(SocketAddr::from(([127, 0, 0, 1], 0))))
            .close_timeout(close_timeout)
            .protocol("http", http);
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
        seen,
        thread: Some(thread),
    }
}

/// A HEADERS frame for `GET path` ending the stream.
pub fn get(stream: u32, path: &str) -> Vec<u8> {
    request(stream, "GET", path, true)
}

/// A HEADERS frame for `method path`; `end`: no body follows.
pub fn request(stream: u32, method: &str, path: &str, end: bool) -> Vec<u8> {
    let block = request_block(method, path);
    let flags = flag::END_HEADERS | if end { flag::END_STREAM } else { 0 };
    raw_frame(kind::HEADERS, flags, stream, &block)
}

/// DATA bytes among `frames`.
pub fn data_len(frames: &[(FrameHead, Vec<u8>)]) -> usize {
    frames
        .iter()
        .filter(|(h, _)| h.kind == kind::DATA)
        .map(|(h, _)| h.len as usize)
        .sum()
}

/// Client settings that keep every stream's send window at 0.
pub const ZERO_WINDOW: &[(u16, u32)] = &[(setting::INITIAL_WINDOW_SIZE, 0)];

/// A plain HTTP/1.1 GET on a new connection: the status line.
pub fn http1_status(addr: SocketAddr, path: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let req = format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    let _ = s.write_all(req.as_bytes());
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}
