//! HTTP/2 server limits over real sockets: a connection error closes the
//! connection at once, streams in progress or not (RFC 9113 §5.4.1);
//! streamed writes are held at the per-connection parking cap and resume
//! on `Writable`; a peer that keeps its windows closed is cut off after
//! the send-stall timeout, PINGs notwithstanding.
//!
//! Tests bind 127.0.0.1 only and wait on frames and closes, never on
//! elapsed time (time appears only as an upper bound on a wait and as a
//! "not before" check).

mod h2_support;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use h2_support::{Raw, ZERO_WINDOW, data_len, get, goaway, raw_frame, start};
use lws_role_http::ServerConfig;
use lws_role_http::h2::frame::{self, FrameHead, flag, kind, setting};

/// Long enough that a connection left open to drain shows as a read
/// timeout, not as a close.
const LONG_CLOSE: Duration = Duration::from_secs(60);

fn headers_on(stream: u32) -> impl Fn(&FrameHead) -> bool {
    move |h| h.kind == kind::HEADERS && h.stream == stream
}

/// One representative per error code the connection raises, each sent
/// while stream 3 is in progress (its 1 MB response parked on a closed
/// window): the client gets GOAWAY with that code, then EOF.
#[test]
fn connection_errors_close_at_once_with_a_stream_in_progress() {
    let srv = start(ServerConfig::default(), LONG_CLOSE);
    let mut flood = raw_frame(kind::HEADERS, 0, 5, &[0x82]);
    for _ in 0..70 {
        flood.extend(raw_frame(kind::CONTINUATION, 0, 5, &[0x82]));
    }
    let max = 0x7fff_ffffu32.to_be_bytes();
    let cases: Vec<(&str, Vec<u8>, u32)> = vec![
        ("DATA on stream 0", raw_frame(kind::DATA, 0, 0, b"x"), 0x1),
        (
            "connection window overflow",
            [
                raw_frame(kind::WINDOW_UPDATE, 0, 0, &max),
                raw_frame(kind::WINDOW_UPDATE, 0, 0, &max),
            ]
            .concat(),
            0x3,
        ),
        ("HEADERS on a closed stream", get(1, "/empty"), 0x5),
        (
            "PING of 7 octets",
            raw_frame(kind::PING, 0, 0, &[0; 7]),
            0x6,
        ),
        (
            "undecodable HPACK",
            raw_frame(kind::HEADERS, flag::END_HEADERS, 5, &[0xff; 8]),
            0x9,
        ),
        ("header block over 64 frames", flood, 0xb),
    ];
    for (what, bad, code) in cases {
        // Stream 1 answered and closed, stream 3 in progress.
        let mut c = Raw::handshake(srv.addr, ZERO_WINDOW);
        c.send(&get(1, "/empty"));
        c.until(headers_on(1));
        c.send(&get(3, "/big"));
        c.until(headers_on(3));
        c.send(&bad);
        let frames = c.until(|_| false);
        assert_eq!(goaway(&frames), Some(code), "{what}: GOAWAY code");
        assert!(c.eof, "{what}: closed at once, not left to drain");
    }
    assert!(h2_support::http1_status(srv.addr, "/small").contains(" 200 "));
}

/// `write_body` on a stream whose window is closed: accepted up to the
/// connection's cap, then refused (nothing written) until the peer opens
/// its windows; the `Writable` that follows finishes the body.
#[test]
fn streamed_writes_stop_at_the_parking_cap_and_resume_on_writable() {
    let cfg = ServerConfig::default();
    let cap = cfg.h2.max_parked;
    let srv = start(cfg, LONG_CLOSE);
    let mut c = Raw::handshake(srv.addr, ZERO_WINDOW);
    c.send(&get(1, "/stream"));
    c.until(headers_on(1));
    // The handler runs on the server's Writable: wait for its refusal.
    for _ in 0..1000 {
        if srv.seen.refused.load(Ordering::SeqCst) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        srv.seen.refused.load(Ordering::SeqCst),
        "a write was refused"
    );
    let accepted = srv.seen.accepted.load(Ordering::SeqCst);
    assert!(
        accepted > 0 && accepted <= cap,
        "{accepted} bytes accepted, cap {cap}"
    );
    let more = (8u32 << 20).to_be_bytes();
    c.send(&raw_frame(kind::WINDOW_UPDATE, 0, 0, &more));
    c.send(&raw_frame(kind::WINDOW_UPDATE, 0, 1, &more));
    let frames = c.until(|h| h.kind == kind::DATA && h.stream == 1 && h.has(flag::END_STREAM));
    assert_eq!(data_len(&frames), h2_support::STREAM_LEN, "the whole body");
}

/// A peer that never opens its windows is cut off after the send-stall
/// timeout with GOAWAY(ENHANCE_YOUR_CALM), though it keeps sending PINGs
/// (which are answered).
#[test]
fn stalled_sends_end_the_connection_despite_pings() {
    let mut cfg = ServerConfig::default();
    cfg.h2.send_stall_timeout = Duration::from_millis(300);
    let srv = start(cfg, LONG_CLOSE);
    let mut c = Raw::handshake(srv.addr, ZERO_WINDOW);
    let started = Instant::now();
    c.send(&get(1, "/big"));
    c.until(headers_on(1));
    let mut frames = Vec::new();
    let mut pongs = 0;
    for _ in 0..200 {
        frames = c.sync(b"still me");
        if c.eof {
            break;
        }
        pongs += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(c.eof, "closed while PINGs kept arriving ({pongs} answered)");
    assert_eq!(goaway(&frames), Some(0xb), "GOAWAY(ENHANCE_YOUR_CALM)");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "not before"
    );
    assert!(h2_support::http1_status(srv.addr, "/small").contains(" 200 "));
}

/// Streams held back at the cap start once the peer opens its windows:
/// three 1 MB responses on zero windows (one answered, two waiting) and
/// an upload sent while held back all complete after a larger
/// SETTINGS_INITIAL_WINDOW_SIZE and a connection WINDOW_UPDATE.
#[test]
fn waiting_streams_start_when_the_windows_open() {
    let srv = start(ServerConfig::default(), LONG_CLOSE);
    let mut c = Raw::handshake(srv.addr, ZERO_WINDOW);
    for id in [1, 3, 5] {
        c.send(&get(id, "/big"));
    }
    // A fourth stream uploads while held back: its body is kept for it.
    c.send(&h2_support::request(7, "POST", "/count", false));
    c.send(&raw_frame(kind::DATA, flag::END_STREAM, 7, &[b'u'; 1000]));
    let mut frames = c.sync(b"3 asked!");
    frames.extend(c.sync(b"heads in"));
    let heads =
        |f: &[(FrameHead, Vec<u8>)]| f.iter().filter(|(h, _)| h.kind == kind::HEADERS).count();
    assert_eq!(heads(&frames), 1, "one answered, three held back");
    let mut open = Vec::new();
    frame::write_settings(&mut open, &[(setting::INITIAL_WINDOW_SIZE, 4 << 20)]);
    open.extend(raw_frame(
        kind::WINDOW_UPDATE,
        0,
        0,
        &(16u32 << 20).to_be_bytes(),
    ));
    c.send(&open);
    let mut done = 0;
    let mut got = Vec::new();
    while done < 4 && !c.eof {
        let f = c.until(|h| h.kind == kind::DATA && h.has(flag::END_STREAM));
        done += f
            .iter()
            .filter(|(h, _)| h.kind == kind::DATA && h.has(flag::END_STREAM))
            .count();
        got.extend(f);
    }
    assert_eq!(done, 4, "every stream finished");
    assert_eq!(heads(&got), 3, "the held streams answered");
    assert_eq!(data_len(&got), 3_000_000 + 4);
    let count: Vec<u8> = got
        .iter()
        .filter(|(h, _)| h.kind == kind::DATA && h.stream == 7)
        .flat_map(|(_, p)| p.clone())
        .collect();
    assert_eq!(count, b"1000", "the held upload reached the handler whole");
}
