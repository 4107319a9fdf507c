//! The HTTP/1 client against our own server (keep-alive reuse, chunked
//! responses, redirects, streamed uploads), against Python's http.server
//! (HTTP/1.0, close-delimited bodies), and its error events.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command};
use std::thread;
use std::time::Duration;

use lws_core::{Context, RunLoop, Token, VhostBuilder};
use lws_loop_poll::PollLoop;
use lws_role_http::client::{
    self, ClientCx, ClientError, ClientEvent, ClientRequest, HttpClientHandler, HttpClientProtocol,
};
use lws_role_http::{RequestBody, ServerConfig};

/// Records everything; runs a script of follow-up requests on `Done`.
#[derive(Default)]
struct Recorder {
    statuses: Vec<u16>,
    bodies: Vec<Vec<u8>>,
    errors: Vec<ClientError>,
    tokens: Vec<Token>,
    closed: usize,
    next: Vec<ClientRequest>,
    stream_chunks: u32,
    expect_done: usize,
}

impl HttpClientHandler for Recorder {
    type Session = Vec<u8>;

    fn on_event(&mut self, cx: &mut ClientCx<'_, '_>, body: &mut Vec<u8>, ev: ClientEvent<'_>) {
        match ev {
            ClientEvent::Response(h) => {
                self.statuses.push(h.status);
                if !self.tokens.contains(&cx.token()) {
                    self.tokens.push(cx.token());
                }
            }
            ClientEvent::Body(d) => body.extend_from_slice(d),
            ClientEvent::Writable if self.stream_chunks > 0 => {
                self.stream_chunks -= 1;
                cx.write_body(&[b'z'; 1000]).expect("write body");
                if self.stream_chunks == 0 {
                    cx.finish_body().expect("finish");
                } else {
                    cx.request_writable();
                }
            }
            ClientEvent::Done => {
                self.bodies.push(std::mem::take(body));
                if let Some(next) = self.next.pop() {
                    cx.send(next).expect("connection reusable");
                } else if self.bodies.len() + self.errors.len() >= self.expect_done {
                    cx.conn().cx().stop();
                }
            }
            ClientEvent::Error(e) => {
                self.errors.push(e.clone());
                if self.bodies.len() + self.errors.len() >= self.expect_done {
                    cx.conn().cx().stop();
                }
            }
            ClientEvent::Closed(_) => self.closed += 1,
            _ => {}
        }
    }
}

/// Run a client context until the recorder stops it; return the recorder.
fn run(rec: Recorder, requests: Vec<ClientRequest>) -> Result<Recorder, ClientError> {
    run_with(rec, requests, lws_core::DnsConfig::default())
}

fn run_with(
    rec: Recorder,
    requests: Vec<ClientRequest>,
    dns: lws_core::DnsConfig,
) -> Result<Recorder, ClientError> {
    let proto = HttpClientProtocol::new(rec);
    let mut ctx = Context::builder()
        .vhost(VhostBuilder::new("c").protocol("client", proto))
        .dns(dns)
        .build()
        .expect("ctx");
    let remote = ctx.remote();
    let dog = thread::spawn(move || {
        thread::sleep(Duration::from_secs(30));
        remote.stop();
    });
    for r in requests {
        client::send(&mut ctx, "client", r)?;
    }
    PollLoop::new().expect("loop").run(&mut ctx).expect("run");
    drop(dog);
    let p = ctx
        .protocol_mut::<HttpClientProtocol<Recorder>>("c", "client")
        .expect("protocol");
    Ok(std::mem::take(p.handler_mut()))
}

#[test]
fn keep_alive_reuse_for_several_requests() {
    let srv = common::start(ServerConfig::default());
    let base = format!("http://{}", srv.addr);
    let mut rec = Recorder {
        expect_done: 3,
        ..Default::default()
    };
    rec.next = vec![
        ClientRequest::post(&format!("{base}/echo"), b"ping".to_vec()).expect("url"),
        ClientRequest::get(&format!("{base}/files/big.bin")).expect("url"),
    ];
    let rec = run(
        rec,
        vec![ClientRequest::get(&format!("{base}/files/hello.txt")).expect("url")],
    )
    .expect("send");
    assert_eq!(rec.statuses, vec![200, 200, 200]);
    assert_eq!(rec.bodies[0], b"hello, world\n");
    assert_eq!(rec.bodies[1].len(), 1_000_000);
    assert_eq!(rec.bodies[2], b"ping");
    assert_eq!(rec.tokens.len(), 1, "all three on one connection");
}

#[test]
fn chunked_response_and_redirect_follow_and_streamed_upload() {
    let srv = common::start(ServerConfig::default());
    let base = format!("http://{}", srv.addr);
    let rec = Recorder {
        expect_done: 3,
        stream_chunks: 3,
        ..Default::default()
    };
    let upload = ClientRequest::new("POST", &format!("{base}/upload"))
        .expect("url")
        .body(RequestBody::Stream(None));
    let reqs = vec![
        ClientRequest::get(&format!("{base}/slow-stream")).expect("url"),
        ClientRequest::get(&format!("{base}/redirect"))
            .expect("url")
            .follow_redirects(3),
        upload,
    ];
    let rec = run(rec, reqs).expect("send");
    let mut bodies: Vec<String> = rec
        .bodies
        .iter()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .collect();
    bodies.sort();
    assert_eq!(
        bodies,
        vec![
            "chunk 1\nchunk 2\nchunk 3\nchunk 4\nchunk 5\n",
            "hello, world\n",
            "received 3000 bytes\n"
        ]
    );
    assert_eq!(
        rec.statuses,
        vec![200, 200, 200],
        "the 302 itself is not reported"
    );
}

#[test]
fn redirect_not_followed_is_reported() {
    let srv = common::start(ServerConfig::default());
    let rec = run(
        Recorder {
            expect_done: 1,
            ..Default::default()
        },
        vec![ClientRequest::get(&format!("http://{}/redirect", srv.addr)).expect("url")],
    )
    .expect("send");
    assert_eq!(rec.statuses, vec![302]);
}

struct PyServer(Child);

impl Drop for PyServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn against_python_http_server_http10_close_delimited() {
    let dir = std::env::temp_dir().join(format!("lws-pyhttp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 241) as u8).collect();
    std::fs::write(dir.join("data.bin"), &data).expect("write");
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let child = Command::new("python3")
        .args([
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            &port.to_string(),
            "--directory",
        ])
        .arg(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("python3 http.server");
    let _py = PyServer(child);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        thread::sleep(Duration::from_millis(50));
    }
    let url = format!("http://127.0.0.1:{port}/data.bin");
    let rec = run(
        Recorder {
            expect_done: 1,
            ..Default::default()
        },
        vec![ClientRequest::get(&url).expect("url")],
    )
    .expect("send");
    assert_eq!(rec.statuses, vec![200]);
    assert_eq!(rec.bodies.first().map(Vec::len), Some(data.len()));
    assert!(rec.bodies[0] == data, "body intact");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn error_events_refused_dns_timeout_bad_response() {
    let refused = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_addr = silent.local_addr().expect("addr");
    let garbage = TcpListener::bind("127.0.0.1:0").expect("bind");
    let garbage_addr = garbage.local_addr().expect("addr");
    let peers = thread::spawn(move || {
        let (_held, _) = silent.accept().expect("accept");
        let (mut g, _) = garbage.accept().expect("accept");
        let mut buf = [0u8; 1024];
        let _ = g.read(&mut buf);
        let _ = g.write_all(b"HTTP/1.1 abc nonsense\r\n\r\n");
        thread::sleep(Duration::from_secs(2));
    });
    let (dns, dns_dir) = nxdomain_server();
    let reqs = vec![
        ClientRequest::get("http://nonexistent.invalid/").expect("url"),
        ClientRequest::get(&format!("http://{refused}/")).expect("url"),
        ClientRequest::get(&format!("http://{silent_addr}/"))
            .expect("url")
            .timeout(Duration::from_millis(300)),
        ClientRequest::get(&format!("http://{garbage_addr}/")).expect("url"),
    ];
    let rec = run_with(
        Recorder {
            expect_done: 4,
            ..Default::default()
        },
        reqs,
        lws_core::DnsConfig::with_paths(dns_dir.join("resolv.conf"), dns_dir.join("hosts")),
    )
    .expect("send");
    peers.join().expect("peers");
    drop(dns);
    let _ = std::fs::remove_dir_all(&dns_dir);
    assert_eq!(rec.errors.len(), 4, "{:?}", rec.errors);
    assert!(
        rec.errors.contains(&ClientError::Dns {
            host: "nonexistent.invalid".into(),
            error: lws_core::DnsError::NxDomain,
        }),
        "{:?}",
        rec.errors
    );
    assert!(
        rec.errors
            .iter()
            .any(|e| matches!(e, ClientError::Connect(m) if m.contains("refused"))),
        "{:?}",
        rec.errors
    );
    assert!(
        rec.errors
            .iter()
            .any(|e| matches!(e, ClientError::Timeout(_))),
        "{:?}",
        rec.errors
    );
    assert!(
        rec.errors
            .iter()
            .any(|e| matches!(e, ClientError::BadResponse(_))),
        "{:?}",
        rec.errors
    );
}

/// A nameserver on 127.0.0.1 that answers every query with NXDOMAIN, on a
/// thread that ends when the returned guard is dropped; and a directory
/// holding a resolv.conf naming it and an empty hosts file.
fn nxdomain_server() -> (NxServer, std::path::PathBuf) {
    use std::sync::atomic::{AtomicBool, Ordering};
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind dns");
    sock.set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let addr = sock.local_addr().expect("addr");
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let thread = thread::spawn(move || {
        let mut buf = [0u8; 1500];
        while !s.load(Ordering::Relaxed) {
            if let Ok((n, from)) = sock.recv_from(&mut buf)
                && n >= 12
            {
                let mut r = buf[..n].to_vec();
                r[2] = 0x80 | (r[2] & 0x01); // QR, RD copied
                r[3] = 0x83; // RA, NXDOMAIN
                r[6..12].fill(0);
                let _ = sock.send_to(&r, from);
            }
        }
    });
    let dir = std::env::temp_dir().join(format!("lws-http-dns-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("resolv.conf"), format!("nameserver {addr}\n")).expect("resolv");
    std::fs::write(dir.join("hosts"), "").expect("hosts");
    (
        NxServer {
            stop,
            thread: Some(thread),
        },
        dir,
    )
}

struct NxServer {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Drop for NxServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
