//! WebSocket echo benchmark: lws-rs against tokio-tungstenite (each server
//! on one thread) with this crate's own load client, in the same run:
//!   - 100 connections x 64-byte messages, closed loop
//!   - 1 connection x 1 MiB messages
//!   - server RSS with 10,000 idle connections (servers in child processes)
//!
//!     cargo run --release -p lws-benches --bin ws-bench

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use lws_benches::ws::{self, WsClient};
use lws_benches::{arg, arg_str};

fn start(which: &str) -> SocketAddr {
    let (tx, rx) = mpsc::channel();
    let which = which.to_owned();
    std::thread::spawn(move || match which.as_str() {
        "lws" => ws::serve_lws(tx),
        _ => ws::serve_tungstenite(tx),
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("server started")
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Child mode: serve on this process until stdin closes.
fn child(which: &str) {
    let addr = start(which);
    println!("{addr}");
    let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut Vec::new());
}

fn idle_rss(which: &str, conns: usize) -> (u64, u64) {
    let exe = std::env::current_exe().expect("exe");
    let mut c = Command::new(exe)
        .args(["--serve", which])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("child");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(c.stdout.take().expect("stdout")),
        &mut line,
    )
    .expect("addr");
    let addr: SocketAddr = line.trim().parse().expect("addr");
    std::thread::sleep(Duration::from_millis(200));
    let before = rss_kib(c.id());
    let clients: Vec<WsClient> = (0..conns)
        .filter_map(|_| WsClient::connect(addr).ok())
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let after = rss_kib(c.id());
    let opened = clients.len();
    drop(clients);
    drop(c.stdin.take());
    let _ = c.wait();
    if opened != conns {
        eprintln!("{which}: only {opened} of {conns} connections opened");
    }
    (before, after)
}

fn main() {
    if let Some(which) = arg_str("--serve") {
        return child(&which);
    }
    let small_msgs = arg("--messages", 2000usize);
    let big_msgs = arg("--big-messages", 200usize);
    let idle = arg("--idle", 10_000usize);
    let mut rates = Vec::new();
    for which in ["lws", "tungstenite"] {
        let addr = start(which);
        let small = ws::load(addr, 100, small_msgs, 64).expect("small load");
        let big = ws::load(addr, 1, big_msgs, 1 << 20).expect("big load");
        println!(
            "{which:<12} 100 conns x 64 B: {:>9.0} msg/s  p50 {:>5} us  p99 {:>6} us | 1 conn x 1 MiB: {:>6.0} msg/s  p50 {:>6} us  p99 {:>6} us",
            small.rate(),
            small.latency.value_at_quantile(0.5),
            small.latency.value_at_quantile(0.99),
            big.rate(),
            big.latency.value_at_quantile(0.5),
            big.latency.value_at_quantile(0.99)
        );
        rates.push((small.rate(), big.rate()));
    }
    if let [(a_small, a_big), (b_small, b_big)] = rates[..] {
        println!(
            "ratio lws-rs / tokio-tungstenite: 64 B x100: {:.2}x, 1 MiB x1: {:.2}x",
            a_small / b_small,
            a_big / b_big
        );
    }
    if idle > 0 {
        for which in ["lws", "tungstenite"] {
            let (before, after) = idle_rss(which, idle);
            println!(
                "{which:<12} RSS {before} KiB -> {after} KiB with {idle} idle connections ({:.0} bytes/conn)",
                (after.saturating_sub(before) * 1024) as f64 / idle as f64
            );
        }
    }
}
