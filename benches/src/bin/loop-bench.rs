//! The raw echo load on every event-loop adapter compiled in, one after
//! the other in the same run, printed as a table with each adapter's rate
//! relative to the native poll loop.
//!
//!     cargo run --release -p lws-benches --features system-loops --bin loop-bench
//!
//! Without `--features system-loops` only the pure-Rust adapters are built.

use lws_benches::{arg, load, server};

fn main() {
    let conns = arg("--conns", 100usize);
    let messages = arg("--messages", 5_000usize);
    let size = arg("--size", 64usize);
    let l = load::Load {
        conns,
        messages,
        size,
    };
    println!("raw echo, {conns} conns x {messages} msgs x {size} B, owned loop on its own thread");
    println!("| loop | msg/s | p50 us | p99 us | vs poll |");
    println!("|---|---:|---:|---:|---:|");
    // One untimed full-size round first: the first run of the load client
    // in a process is slower (thread stacks, page faults), whatever loop.
    {
        let warm = server::start("poll", None);
        load::run(warm.addr, &l).expect("warm-up round");
        warm.remote.stop();
        let _ = warm.thread.join();
    }
    let mut base = None;
    for name in lws::loops::names() {
        let running = server::start(name, None);
        let warm = load::Load {
            conns: conns.min(10),
            messages: 100,
            size,
        };
        load::run(running.addr, &warm).expect("warm-up");
        let f = load::run(running.addr, &l).unwrap_or_else(|e| panic!("{name}: load failed: {e}"));
        running.remote.stop();
        let _ = running.thread.join();
        let rate = f.rate();
        let b = *base.get_or_insert(rate);
        println!(
            "| {name} | {rate:.0} | {} | {} | {:.2}x |",
            f.p(0.50),
            f.p(0.99),
            rate / b
        );
    }
}
