//! Raw TCP echo benchmark: an in-process lws echo server (or `--addr` of an
//! external one) against this crate's own closed-loop load client.
//!
//!     cargo run --release -p lws-benches --bin raw-echo-bench -- --conns 100 --messages 10000 --size 64
//!
//! Prints one line per run: messages/s and p50/p99 round-trip latency.

use lws_benches::{arg, arg_str, load, server};

fn main() {
    let conns = arg("--conns", 100usize);
    let messages = arg("--messages", 10_000usize);
    let size = arg("--size", 64usize);
    let loop_name = arg_str("--loop").unwrap_or_else(|| "poll".to_owned());
    let external = arg_str("--addr").map(|a| a.parse().expect("--addr ip:port"));
    let running = match external {
        Some(_) => None,
        None => Some(server::start(&loop_name, None)),
    };
    let addr = external.unwrap_or_else(|| running.as_ref().map(|r| r.addr).expect("server"));
    let l = load::Load {
        conns,
        messages,
        size,
    };
    // A short warm-up so connection setup and page faults are not measured.
    let warm = load::Load {
        conns: conns.min(10),
        messages: 100,
        size,
    };
    load::run(addr, &warm).expect("warm-up");
    let f = load::run(addr, &l).unwrap_or_else(|e| panic!("load failed: {e}"));
    let target = if external.is_some() {
        format!("external {addr}")
    } else {
        format!("lws {loop_name}")
    };
    println!(
        "raw echo [{target}] {conns} conns x {messages} msgs x {size} B: {:.0} msg/s, p50 {} us, p99 {} us ({:.2} s)",
        f.rate(),
        f.p(0.50),
        f.p(0.99),
        f.elapsed.as_secs_f64()
    );
    if let Some(r) = running {
        r.remote.stop();
        let _ = r.thread.join();
    }
}
