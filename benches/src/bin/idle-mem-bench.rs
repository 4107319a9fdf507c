//! Memory held per idle raw connection (or, with `--http2`, per idle
//! HTTP/2 connection: preface and SETTINGS exchanged, no stream).
//!
//! Runs an lws echo server in this process and opens N idle connections to
//! it from a child process (this same binary in `--client` mode), so only
//! the server's allocations are in this process. Heap in use is read from
//! an instrumented global allocator (`stats_alloc`) before and after the
//! connections settle. Kernel socket buffers are not included.
//!
//!     cargo run --release -p lws-benches --bin idle-mem-bench -- --conns 10000 [--http2]

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

/// Child mode: open `n` connections (sending the HTTP/2 preface and an
/// empty SETTINGS frame on each if `h2`), report, hold them until stdin
/// closes.
fn client(addr: SocketAddr, n: usize, h2: bool) {
    let n = raise_fd_limit(n);
    let conns: Vec<TcpStream> = (0..n)
        .map(|_| {
            let mut s = TcpStream::connect(addr).expect("connect");
            if h2 {
                s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
                    .expect("preface");
            }
            s
        })
        .collect();
    println!("connected {}", conns.len());
    let _ = std::io::stdout().flush();
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}

fn main() {
    if let Some(addr) = arg_str("--client") {
        return client(
            addr.parse().expect("--client ip:port"),
            arg("--conns", 10_000usize),
            std::env::args().any(|a| a == "--http2"),
        );
    }
    let conns = raise_fd_limit(arg("--conns", 10_000usize));
    let h2 = std::env::args().any(|a| a == "--http2");
    let srv = match h2 {
        true => server::start_http("poll", Duration::from_secs(600)),
        false => server::start("poll", Some(Duration::from_secs(600))),
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
        .args(h2.then_some("--http2"))
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

    println!(
        "idle {} connections: {opened}; server heap {before} -> {after} bytes; \
         {per:.0} bytes of library state per idle connection",
        if h2 { "HTTP/2" } else { "raw" }
    );
    drop(child.stdin.take());
    let _ = child.wait();
    srv.remote.stop();
    let served = srv.thread.join().expect("server");
    println!("server accepted {} connections", served.opened);
}
