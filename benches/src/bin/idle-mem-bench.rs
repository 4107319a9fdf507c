//! Memory held per idle raw connection.
//!
//! Opens N idle client connections to an in-process lws echo server and
//! measures the heap the *service thread* holds for them, with a counting
//! global allocator that keeps per-thread totals (so the client side of the
//! benchmark is not counted). Kernel socket buffers are not included.
//!
//!     cargo run --release -p lws-benches --bin idle-mem-bench -- --conns 10000

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use lws_benches::{arg, server};

struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn add(n: isize) {
    // try_with: the thread-local may be gone while a thread exits.
    let _ = LIVE.try_with(|c| c.set(c.get() + n));
}

// SAFETY: defers every allocation to the system allocator unchanged; it only
// counts sizes in a thread-local (const-initialised, so it never allocates).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        add(l.size() as isize);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        add(-(l.size() as isize));
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        add(new as isize - l.size() as isize);
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Live heap bytes of the service thread, read on that thread.
fn sample(remote: &lws::Remote) -> isize {
    let (tx, rx) = mpsc::channel();
    remote.post(move |_cx| {
        let _ = tx.send(LIVE.with(Cell::get));
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("service thread answers")
}

/// Both ends of every connection are descriptors in this process: raise
/// the soft limit as far as the hard one allows; returns how many
/// connections fit.
fn raise_fd_limit(conns: usize) -> usize {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let lim = getrlimit(Resource::Nofile);
    let want = (2 * conns + 100) as u64;
    if lim.current.is_some_and(|c| c < want) {
        let new = Rlimit {
            current: Some(lim.maximum.map_or(want, |m| m.min(want))),
            maximum: lim.maximum,
        };
        if let Err(e) = setrlimit(Resource::Nofile, new) {
            eprintln!("cannot raise the descriptor limit: {e}");
        }
    }
    let have = getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX) as usize;
    let fit = have.saturating_sub(100) / 2;
    if fit < conns {
        eprintln!("descriptor limit {have} allows {fit} connections (asked {conns})");
    }
    conns.min(fit)
}

fn main() {
    let conns = raise_fd_limit(arg("--conns", 10_000usize));
    let srv = server::start("poll", Some(Duration::from_secs(600)));
    let before = sample(&srv.remote);
    let mut clients = Vec::with_capacity(conns);
    for _ in 0..conns {
        clients.push(TcpStream::connect(srv.addr).expect("connect"));
    }
    // Settled when two samples 200 ms apart agree (all accepts done).
    let t0 = Instant::now();
    let mut last = sample(&srv.remote);
    let after = loop {
        std::thread::sleep(Duration::from_millis(200));
        let now = sample(&srv.remote);
        if now == last || t0.elapsed() > Duration::from_secs(30) {
            break now;
        }
        last = now;
    };
    let per = (after - before) as f64 / conns as f64;
    println!(
        "idle raw connections: {conns}; service-thread heap {before} -> {after} bytes; \
         {per:.0} bytes of library state per idle connection"
    );
    drop(clients);
    srv.remote.stop();
    let served = srv.thread.join().expect("server");
    println!("server accepted {} connections", served.opened);
}
