//! Server heap under a hostile HTTP/2 client (its own test binary, for
//! its counting global allocator): SETTINGS_INITIAL_WINDOW_SIZE=0, then
//! 100 streams on a handler answering each with a 1 MB `respond` body.
//! The server parks one body (a second would cross its cap), the other
//! streams wait unanswered; other clients are served; the
//! connection is closed after the send-stall timeout and its memory is
//! given back.

mod h2_support;

use std::alloc::System;
use std::time::{Duration, Instant};

use h2_support::{Raw, ZERO_WINDOW, get, goaway, start};
use lws_role_http::ServerConfig;
use lws_role_http::h2::frame::{flag, kind};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes allocated and not freed, process-wide.
fn heap() -> i64 {
    let s = GLOBAL.stats();
    s.bytes_allocated as i64 - s.bytes_deallocated as i64
}

#[test]
fn zero_window_client_with_100_large_responses_is_bounded_then_cut_off() {
    let stall = Duration::from_millis(500);
    let mut cfg = ServerConfig::default();
    cfg.h2.send_stall_timeout = stall;
    let cap = cfg.h2.max_parked as i64;
    let srv = start(cfg, Duration::from_secs(60));
    let requests: Vec<u8> = (0..100).flat_map(|i| get(2 * i + 1, "/big")).collect();
    // Warm up (first-use allocations of the loop and the role), then
    // take the baseline.
    let mut warm = Raw::handshake(srv.addr, &[]);
    warm.send(&get(1, "/small"));
    warm.sync(b"warmup!!");
    drop(warm);
    assert!(h2_support::http1_status(srv.addr, "/small").contains(" 200 "));
    let before = heap();

    let mut c = Raw::handshake(srv.addr, ZERO_WINDOW);
    let started = Instant::now();
    c.send(&requests);
    // Once the PING is answered, all 100 requests have been handled.
    let mut frames = c.sync(b"100 sent");
    let grown = heap() - before;
    // Heads of streams handled in the read holding the PING follow its
    // answer (handlers run once a read's frames are parsed): one more
    // round trip collects them.
    frames.extend(c.sync(b"heads in"));
    let answered = frames
        .iter()
        .filter(|(h, _)| h.kind == kind::HEADERS)
        .count();
    println!(
        "heap growth with 100 x 1 MB responses on zero windows: {grown} bytes \
         (cap {cap}); {answered} streams answered, the rest waiting"
    );
    assert!(
        grown < cap + SMALL,
        "heap grew {grown} bytes: over the cap {cap} + {SMALL}"
    );
    assert!((1..100).contains(&answered), "{answered} answered");

    // Other clients are served meanwhile, on both versions.
    assert!(h2_support::http1_status(srv.addr, "/small").contains(" 200 "));
    let mut other = Raw::handshake(srv.addr, &[]);
    other.send(&get(1, "/small"));
    let got = other.until(|h| h.kind == kind::DATA && h.stream == 1 && h.has(flag::END_STREAM));
    assert!(!other.eof && !got.is_empty(), "another h2 client is served");

    // The stalled connection ends with GOAWAY(ENHANCE_YOUR_CALM), then EOF.
    // (Under a slow machine the close may already have been read.)
    frames.extend(c.until(|_| false));
    assert!(c.eof, "closed");
    assert_eq!(goaway(&frames), Some(0xb));
    assert!(started.elapsed() >= stall, "not before the stall timeout");
    let after = heap() - before;
    println!("heap after the close: {after} bytes over the baseline");
}

/// Per-stream state (request heads, sessions), HPACK and socket buffers.
const SMALL: i64 = 512 * 1024;
