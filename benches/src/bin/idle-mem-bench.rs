//! Memory held per idle raw connection (or, with `--http2`, per idle
//! HTTP/2 connection: preface and SETTINGS exchanged, no stream; with
//! `--ws`, per idle WebSocket connection: upgraded, no message).
//!
//! WebSocket options: `--deflate` offers permessage-deflate
//! (`client_max_window_bits`), `--echo` then sends one compressed message
//! on each connection and reads the compressed echo before idling (so both
//! directions have used zlib), `--no-context-takeover` sets it in the
//! server's `WsConfig`, `--window-bits N` sets its `max_window_bits`.
//!
//! Runs an lws echo server in this process and opens N idle connections to
//! it from a child process (this same binary in `--client` mode), so only
//! the server's allocations are in this process. Heap in use is read from
//! an instrumented global allocator (`stats_alloc`) before and after the
//! connections settle. Kernel socket buffers are not included.
//!
//!     cargo run --release -p lws-benches --bin idle-mem-bench -- --conns 10000 [--http2]
//!     cargo run --release -p lws-benches --bin idle-mem-bench -- --conns 1000 --ws --deflate [--echo]

use std::alloc::System;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lws_benches::{arg, arg_str, server};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn live_heap() -> isize {
    let s = GLOBAL.stats();
    // Growth by realloc is already counted in bytes_allocated/deallocated.
    s.bytes_allocated as isize - s.bytes_deallocated as isize
}

/// Raise the descriptor soft limit towards `want`; returns what fits.
fn raise_fd_limit(want: usize) -> usize {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let lim = getrlimit(Resource::Nofile);
    let need = (want + 100) as u64;
    if lim.current.is_some_and(|c| c < need) {
        let current = Some(lim.maximum.map_or(need, |m| m.min(need)));
        if let Err(e) = setrlimit(
            Resource::Nofile,
            Rlimit {
                current,
                maximum: lim.maximum,
            },
        ) {
            eprintln!("cannot raise the descriptor limit: {e}");
        }
    }
    let have = getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX) as usize;
    want.min(have.saturating_sub(100))
}

/// What the child process does on each connection.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Raw,
    Http2,
    /// WebSocket upgrade; offer permessage-deflate; send one message.
    Ws {
        deflate: bool,
        echo: bool,
    },
}

impl Mode {
    fn from_args() -> Mode {
        let has = |f: &str| std::env::args().any(|a| a == f);
        if has("--http2") {
            Mode::Http2
        } else if has("--ws") {
            Mode::Ws {
                deflate: has("--deflate"),
                echo: has("--echo"),
            }
        } else {
            Mode::Raw
        }
    }
}

/// `'lws-rs idle memory probe: '` x 4, raw deflate (zlib, 15-bit window,
/// sync flush, the 00 00 ff ff tail removed as RFC 7692 §7.2.1 says).
const PROBE_DEFLATED: [u8; 31] = [
    202, 41, 47, 214, 45, 42, 86, 200, 76, 201, 73, 85, 200, 77, 205, 205, 47, 170, 84, 40, 40,
    202, 79, 74, 181, 82, 200, 161, 170, 12, 0,
];
const PROBE: &[u8] = b"lws-rs idle memory probe: ";

/// Read until `buf` holds `want(buf)` bytes (`None`: not known yet).
fn read_until(s: &mut TcpStream, buf: &mut Vec<u8>, want: impl Fn(&[u8]) -> Option<usize>) {
    let mut chunk = [0u8; 1024];
    while want(buf).is_none_or(|n| buf.len() < n) {
        let n = s.read(&mut chunk).expect("read");
        assert!(n > 0, "server closed");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Upgrade one connection to WebSocket; with `echo`, send one message
/// (compressed when deflate was negotiated) and read its echo.
fn ws_open(s: &mut TcpStream, deflate: bool, echo: bool) {
    let ext = match deflate {
        true => "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n",
        false => "",
    };
    let req = format!(
        "GET / HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{ext}\r\n"
    );
    s.write_all(req.as_bytes()).expect("upgrade");
    let mut head = Vec::new();
    read_until(s, &mut head, |b| {
        b.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
    });
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 101"), "upgrade refused: {text}");
    if !echo {
        return;
    }
    let compressed = text.contains("permessage-deflate");
    let (first, payload): (u8, Vec<u8>) = match compressed {
        true => (0xC1, PROBE_DEFLATED.to_vec()),
        false => (0x81, PROBE.repeat(4)),
    };
    // Masked with an all-zero key: the payload goes as it is.
    let mut frame = vec![first, 0x80 | payload.len() as u8, 0, 0, 0, 0];
    frame.extend_from_slice(&payload);
    s.write_all(&frame).expect("message");
    let mut back = Vec::new();
    read_until(s, &mut back, |b| {
        (b.len() >= 2 && b[1] < 126).then(|| 2 + b[1] as usize)
    });
    assert_eq!(
        back[0] & 0x40 != 0,
        compressed,
        "echo compressed as negotiated"
    );
}

/// Child mode: open `n` connections (set up as `mode` says), report, hold
/// them until stdin closes.
fn client(addr: SocketAddr, n: usize, mode: Mode) {
    let n = raise_fd_limit(n);
    let conns: Vec<TcpStream> = (0..n)
        .map(|_| {
            let mut s = TcpStream::connect(addr).expect("connect");
            match mode {
                Mode::Raw => {}
                Mode::Http2 => s
                    .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
                    .expect("preface"),
                Mode::Ws { deflate, echo } => ws_open(&mut s, deflate, echo),
            }
            s
        })
        .collect();
    println!("connected {}", conns.len());
    let _ = std::io::stdout().flush();
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}

/// The server's WebSocket settings from the command line.
fn ws_config(deflate: bool) -> lws::ws::WsConfig {
    let mut c = lws::ws::WsConfig {
        deflate,
        no_context_takeover: std::env::args().any(|a| a == "--no-context-takeover"),
        ..Default::default()
    };
    if let Some(bits) = arg_str("--window-bits").and_then(|b| b.parse().ok()) {
        c.max_window_bits = bits;
    }
    c
}

fn main() {
    let mode = Mode::from_args();
    if let Some(addr) = arg_str("--client") {
        return client(
            addr.parse().expect("--client ip:port"),
            arg("--conns", 10_000usize),
            mode,
        );
    }
    let conns = raise_fd_limit(arg("--conns", 10_000usize));
    let srv = match mode {
        Mode::Http2 => server::start_http("poll", Duration::from_secs(600)),
        Mode::Raw => server::start("poll", Some(Duration::from_secs(600))),
        Mode::Ws { deflate, .. } => server::start_ws("poll", ws_config(deflate)),
    };
    std::thread::sleep(Duration::from_millis(100));
    let before = live_heap();
    let exe = std::env::current_exe().expect("own path");
    let mut child = Command::new(exe)
        .args([
            "--client",
            &srv.addr.to_string(),
            "--conns",
            &conns.to_string(),
        ])
        .args(
            std::env::args()
                .skip(1)
                .filter(|a| a.starts_with("--") && a != "--conns"),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn client process");
    let mut line = String::new();
    let out = child.stdout.take().expect("child stdout");
    BufReader::new(out)
        .read_line(&mut line)
        .expect("client reports");
    let opened: usize = line
        .trim()
        .trim_start_matches("connected ")
        .parse()
        .unwrap_or(0);
    // Settled when two samples 200 ms apart agree (all accepts done).
    let t0 = Instant::now();
    let mut last = live_heap();
    let after = loop {
        std::thread::sleep(Duration::from_millis(200));
        let now = live_heap();
        if now == last || t0.elapsed() > Duration::from_secs(30) {
            break now;
        }
        last = now;
    };
    let per = (after - before) as f64 / opened.max(1) as f64;

    let label = match mode {
        Mode::Raw => "raw".to_owned(),
        Mode::Http2 => "HTTP/2".to_owned(),
        Mode::Ws { deflate, echo } => format!(
            "WebSocket (deflate {}{}{})",
            if deflate { "offered" } else { "off" },
            if echo {
                ", one message each way"
            } else {
                ", no message"
            },
            if std::env::args().any(|a| a == "--no-context-takeover") {
                ", no_context_takeover"
            } else {
                ""
            }
        ),
    };
    println!(
        "idle {label} connections: {opened}; server heap {before} -> {after} bytes; \
         {per:.0} bytes of library state per idle connection"
    );
    drop(child.stdin.take());
    let _ = child.wait();
    srv.remote.stop();
    let served = srv.thread.join().expect("server");
    println!("server accepted {} connections", served.opened);
}
