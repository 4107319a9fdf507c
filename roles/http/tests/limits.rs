//! Every limit and every rejection: the bad input gets its exact status
//! (and the connection closes) while a concurrent good client is served.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use common::{good_client_served, start, status};
use lws_role_http::ServerConfig;

fn config() -> ServerConfig {
    ServerConfig {
        max_body: 64 * 1024,
        header_timeout: Duration::from_millis(400),
        body_timeout: Duration::from_millis(400),
        ..ServerConfig::default()
    }
}

/// Send `bad` on one connection; while its answer is pending, a good
/// client must be served. Returns the bad connection's whole answer.
fn bad_while_good(bad: &[u8]) -> String {
    let srv = start(config());
    let mut s = TcpStream::connect(srv.addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let _ = s.write_all(bad);
    assert!(
        good_client_served(srv.addr),
        "good client not served while a bad one was connected"
    );
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out); // the server closes after answering
    assert!(
        good_client_served(srv.addr),
        "good client not served after the bad one"
    );
    String::from_utf8_lossy(&out).into_owned()
}

fn expect(bad: &str, code: u16) {
    let answer = bad_while_good(bad.as_bytes());
    assert_eq!(status(&answer), code, "for {bad:?} got:\n{answer}");
    assert!(
        answer.contains("Connection: close"),
        "rejections close the connection"
    );
    assert_eq!(
        answer.matches("HTTP/1.1 ").count(),
        1,
        "exactly one response"
    );
}

#[test]
fn header_block_over_16k_is_431() {
    expect(
        &format!(
            "GET / HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n",
            "a".repeat(20_000)
        ),
        431,
    );
}

#[test]
fn too_many_header_fields_is_431() {
    let many: String = (0..150).map(|i| format!("X-{i}: v\r\n")).collect();
    expect(&format!("GET / HTTP/1.1\r\nHost: t\r\n{many}\r\n"), 431);
}

#[test]
fn uri_over_8k_is_414() {
    expect(
        &format!("GET /{} HTTP/1.1\r\nHost: t\r\n\r\n", "u".repeat(9000)),
        414,
    );
}

#[test]
fn content_length_over_limit_is_413_before_reading_the_body() {
    expect(
        "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n",
        413,
    );
}

#[test]
fn chunked_body_over_limit_is_413_while_streaming() {
    let mut req =
        b"POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..20 {
        req.extend_from_slice(format!("{:x}\r\n{}\r\n", 8192, "c".repeat(8192)).as_bytes());
    }
    expect(&String::from_utf8_lossy(&req), 413);
}

#[test]
fn malformed_requests_are_400() {
    for bad in [
        "GET / HTTP/1.1\r\n\r\n",                               // no Host
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",         // two Hosts
        "GET  / HTTP/1.1\r\nHost: t\r\n\r\n",                   // double space
        "GET / HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n",   // space in name
        "GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n folded\r\n\r\n", // obs-fold
        "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc",
        "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: -3\r\n\r\n",
        "POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
        "POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ] {
        expect(bad, 400);
    }
}

#[test]
fn unsupported_version_is_505_unknown_coding_501_expectation_417() {
    expect("GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505);
    expect(
        "POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        501,
    );
    expect(
        "POST /upload HTTP/1.1\r\nHost: t\r\nExpect: tea\r\nContent-Length: 1\r\n\r\nx",
        417,
    );
}

/// RFC 9112 6.1: a request with both framings is rejected and the
/// smuggled request behind it is never answered.
#[test]
fn te_cl_smuggling_is_rejected_and_not_answered_twice() {
    let smuggle = "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n\
                   0\r\n\r\nGET /files/hello.txt HTTP/1.1\r\nHost: t\r\n\r\n";
    let answer = bad_while_good(smuggle.as_bytes());
    assert_eq!(status(&answer), 400);
    assert_eq!(
        answer.matches("HTTP/1.1 ").count(),
        1,
        "the smuggled GET got no answer:\n{answer}"
    );
    assert!(!answer.contains("hello, world"));
}

/// A body that looks like a request is just a body.
#[test]
fn request_inside_a_body_is_not_executed() {
    let inner = "GET /files/hello.txt HTTP/1.1\r\nHost: t\r\n\r\n";
    let req = format!(
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{inner}",
        inner.len()
    );
    let srv = start(config());
    let answer = common::raw(srv.addr, req.as_bytes());
    assert_eq!(status(&answer), 200);
    assert_eq!(answer.matches("HTTP/1.1 ").count(), 1, "one response");
    assert!(
        answer.ends_with(inner),
        "whose body is the inner request text"
    );
    assert!(!answer.contains("hello, world"));
}

/// Slow client: a head sent a byte at a time is cut off by the header
/// timeout (408), however steadily it trickles.
#[test]
fn slowloris_head_gets_408_within_the_header_timeout() {
    let srv = start(config());
    let mut s = TcpStream::connect(srv.addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let t0 = Instant::now();
    let trickle =
        "GET /files/hello.txt HTTP/1.1\r\nHost: t\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    for b in trickle.bytes() {
        if s.write_all(&[b]).is_err() {
            break;
        }
        thread::sleep(Duration::from_millis(20));
        if t0.elapsed() > Duration::from_secs(3) {
            break;
        }
    }
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out);
    assert_eq!(status(&text), 408, "got {text:?}");
    assert!(
        t0.elapsed() < Duration::from_secs(3),
        "held for {:?}",
        t0.elapsed()
    );
    assert!(good_client_served(srv.addr));
}

/// A client that stops sending its body is answered 408 and closed.
#[test]
fn stalled_body_gets_408() {
    let answer =
        bad_while_good(b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly-some");
    assert_eq!(status(&answer), 408);
}

/// An idle keep-alive connection is closed quietly.
#[test]
fn idle_keepalive_connection_is_closed_without_a_response() {
    let srv = start(ServerConfig {
        keepalive_timeout: Duration::from_millis(200),
        ..config()
    });
    let mut s = TcpStream::connect(srv.addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s.write_all(b"GET /files/hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("write");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out);
    assert_eq!(text.matches("HTTP/1.1 ").count(), 1, "{text}");
    assert!(text.ends_with("hello, world\n"));
}
