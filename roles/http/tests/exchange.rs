//! What a handler's state and handle mean, on both versions: state is per
//! exchange (two requests on one HTTP/1.1 keep-alive connection get two,
//! interleaved HTTP/2 streams get one each), and `HttpCx::close` abandons
//! the exchange the right way for its version.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::h2raw::{Raw, block, hello, raw_frame};
use common::start;
use lws_role_http::ServerConfig;
use lws_role_http::h2::frame::{flag, kind};

fn count_head(stream_body_len: usize) -> String {
    format!("POST /count HTTP/1.1\r\nHost: t\r\nContent-Length: {stream_body_len}\r\n\r\n")
}

/// Read one response with a `Content-Length` body off `s`.
fn read_response(s: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&buf).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let len = text[..end]
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return text[end + 4..end + 4 + len].to_owned();
            }
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return text,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

#[test]
fn http1_keep_alive_requests_get_fresh_exchange_state() {
    let srv = start(ServerConfig::default());
    let mut s = TcpStream::connect(srv.addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    for body in ["first", "second", "third"] {
        let req = format!("{}{body}", count_head(body.len()));
        s.write_all(req.as_bytes()).expect("send");
        assert_eq!(read_response(&mut s), format!("requests 1 body {body}"));
    }
}

#[test]
fn interleaved_http2_streams_get_separate_exchange_state() {
    let srv = start(ServerConfig::default());
    let head = block(&[
        (":method", "POST"),
        (":scheme", "http"),
        (":path", "/count"),
        (":authority", "t"),
    ]);
    let mut c = Raw::connect(srv.addr);
    c.send(&hello());
    // Both streams open before either body arrives, bodies interleaved.
    for id in [1, 3] {
        c.send(&raw_frame(kind::HEADERS, flag::END_HEADERS, id, &head));
    }
    c.send(&raw_frame(kind::DATA, 0, 3, b"th"));
    c.send(&raw_frame(kind::DATA, 0, 1, b"o"));
    c.send(&raw_frame(kind::DATA, flag::END_STREAM, 3, b"ree"));
    c.send(&raw_frame(kind::DATA, flag::END_STREAM, 1, b"ne"));
    let mut bodies = std::collections::BTreeMap::new();
    let frames = c.until(|h| h.kind == kind::DATA && h.has(flag::END_STREAM) && h.stream == 1);
    let more = match frames
        .iter()
        .any(|(h, _)| h.stream == 3 && h.has(flag::END_STREAM))
    {
        true => Vec::new(),
        false => c.until(|h| h.kind == kind::DATA && h.has(flag::END_STREAM) && h.stream == 3),
    };
    for (h, p) in frames.iter().chain(&more) {
        if h.kind == kind::DATA {
            bodies
                .entry(h.stream)
                .or_insert_with(Vec::new)
                .extend_from_slice(p);
        }
    }
    let text = |id| String::from_utf8_lossy(&bodies[&id]).into_owned();
    assert_eq!(text(1), "requests 1 body one");
    assert_eq!(text(3), "requests 1 body three");
    // A third stream on the same connection starts fresh too.
    let reply = c.request(5, &head, Some(b"five"));
    assert_eq!(String::from_utf8_lossy(&reply.body), "requests 1 body five");
}

/// `close` resets only its stream on HTTP/2; the connection serves on.
#[test]
fn close_resets_the_http2_stream_only() {
    let srv = start(ServerConfig::default());
    let get = |path| {
        block(&[
            (":method", "GET"),
            (":scheme", "http"),
            (":path", path),
            (":authority", "t"),
        ])
    };
    let mut c = Raw::connect(srv.addr);
    c.send(&hello());
    c.send(&raw_frame(
        kind::HEADERS,
        flag::END_HEADERS | flag::END_STREAM,
        1,
        &get("/close"),
    ));
    let frames = c.until(|h| h.stream == 1 && h.kind == kind::RST_STREAM);
    let rst = frames
        .iter()
        .find(|(h, _)| h.stream == 1 && h.kind == kind::RST_STREAM);
    let code = rst.map(|(_, p)| u32::from_be_bytes([p[0], p[1], p[2], p[3]]));
    assert_eq!(code, Some(0x8), "RST_STREAM(CANCEL)");
    assert!(!frames.iter().any(|(h, _)| h.kind == kind::GOAWAY));
    let reply = c.request(3, &get("/files/hello.txt"), None);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, b"hello, world\n");
}

/// On HTTP/1 `close` closes the connection: nothing is answered.
#[test]
fn close_ends_the_http1_connection() {
    let srv = start(ServerConfig::default());
    let got = common::raw(srv.addr, b"GET /close HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(got, "");
}

/// Counts what happens to exchange states, from the server thread.
#[derive(Clone, Default)]
struct Tally(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl Tally {
    fn log(&self, what: String) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(what);
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// An exchange state that reports its own drop.
#[derive(Default)]
struct Tracked {
    tally: Option<Tally>,
    id: usize,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if let Some(t) = &self.tally {
            t.log(format!("drop {}", self.id));
        }
    }
}

/// Logs every event with the exchange it arrived on; answers each
/// request with its exchange number.
struct Lifecycle {
    tally: Tally,
    next: usize,
}

impl lws_role_http::HttpHandler for Lifecycle {
    type Exchange = Tracked;

    fn on_event(
        &mut self,
        cx: &mut lws_role_http::HttpCx<'_, '_>,
        ex: &mut Tracked,
        ev: lws_role_http::HttpEvent<'_>,
    ) {
        use lws_role_http::HttpEvent;
        if let HttpEvent::Request(_) = ev {
            assert!(ex.tally.is_none(), "a fresh state for every request");
            self.next += 1;
            *ex = Tracked {
                tally: Some(self.tally.clone()),
                id: self.next,
            };
        }
        let name = match ev {
            HttpEvent::Request(_) => "request",
            HttpEvent::BodyEnd => "end",
            HttpEvent::Closed(_) => "closed",
            _ => return,
        };
        self.tally.log(format!("{name} {}", ex.id));
        if let HttpEvent::BodyEnd = ev {
            let _ = cx.respond(200, &[], format!("exchange {}", ex.id).as_bytes());
        }
    }
}

/// On both versions every exchange runs request, end, closed, and its
/// state is dropped right after `Closed`, before the next one starts.
#[test]
fn each_exchange_ends_with_closed_then_its_state_drops() {
    let tally = Tally::default();
    let t = tally.clone();
    let srv = common::start_protocol(move |_| {
        lws_role_http::HttpProtocol::new(Lifecycle { tally: t, next: 0 })
    });
    let mut s = TcpStream::connect(srv.addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    for n in 1..=2 {
        s.write_all(b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n")
            .expect("send");
        assert_eq!(read_response(&mut s), format!("exchange {n}"));
    }
    let mut c = Raw::connect(srv.addr);
    c.send(&hello());
    let get = block(&[
        (":method", "GET"),
        (":scheme", "http"),
        (":path", "/x"),
        (":authority", "t"),
    ]);
    for (stream, n) in [(1, 3), (3, 4)] {
        let reply = c.request(stream, &get, None);
        assert_eq!(reply.body, format!("exchange {n}").as_bytes());
    }
    // Close both connections, then stop the server: every state is gone.
    drop((s, c));
    drop(srv);
    let mut want = Vec::new();
    for n in 1..=4 {
        for step in ["request", "end", "closed", "drop"] {
            want.push(format!("{step} {n}"));
        }
    }
    assert_eq!(tally.take(), want);
}
