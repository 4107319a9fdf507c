//! HTTP/2 against real peers on loopback: curl (prior knowledge), nghttp
//! (many concurrent streams), h2load (load, zero failures), and raw
//! frames from a hostile client, which only ever costs that connection.
//!
//! These tests must not bind anything but 127.0.0.1, wait without bound,
//! or leave processes behind.

mod common;
mod h2_support;

use std::process::Command;
use std::time::Duration;

use common::{good_client_served, start};
use h2_support::{Raw, goaway, raw_frame};
use lws_conformance::peer::installed;
use lws_role_http::ServerConfig;
use lws_role_http::h2::frame::{PREFACE, flag, kind};

fn curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "20", "--http2-prior-knowledge"])
        .args(args)
        .output()
        .expect("curl");
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn curl_prior_knowledge_files_handler_and_streaming() {
    if !installed("curl") {
        return;
    }
    let srv = start(ServerConfig::default());
    let base = format!("http://{}", srv.addr);
    let fmt = "%{http_version} %{http_code} %{size_download}";
    assert_eq!(
        curl(&["-w", &format!(" {fmt}"), &format!("{base}/files/hello.txt")]),
        "hello, world\n 2 200 13"
    );
    assert_eq!(
        curl(&[
            "-o",
            "/dev/null",
            "-w",
            fmt,
            "-r",
            "10-19",
            &format!("{base}/files/big.bin")
        ]),
        "2 206 10"
    );
    assert_eq!(
        curl(&[
            "-I",
            "-o",
            "/dev/null",
            "-w",
            fmt,
            &format!("{base}/files/big.bin")
        ]),
        "2 200 0"
    );
    assert_eq!(
        curl(&[
            "-o",
            "/dev/null",
            "-w",
            fmt,
            &format!("{base}/files/big.bin")
        ]),
        "2 200 1000000",
        "a streamed file larger than the windows"
    );
    assert_eq!(
        curl(&["-w", " %{http_code}", &format!("{base}/nothing")]),
        "not found\n 404"
    );
    // A 3 MB upload: more than the connection and stream windows.
    let body_path = srv.dir.join("upload.bin");
    std::fs::write(&body_path, vec![b'u'; 3_000_000]).expect("body");
    let up = format!("@{}", body_path.display());
    assert_eq!(
        curl(&["--data-binary", &up, &format!("{base}/upload")]),
        "received 3000000 bytes\n"
    );
    assert_eq!(
        curl(&["--data-binary", "echo me", &format!("{base}/echo")]),
        "echo me"
    );
    assert_eq!(
        curl(&[&format!("{base}/slow-stream")]),
        "chunk 1\nchunk 2\nchunk 3\nchunk 4\nchunk 5\n",
        "a handler streaming over Writable events"
    );
    // Not followed with -L: curl 7.88 fails reusing a prior-knowledge
    // connection (curl/curl#10634, fixed in 8.0).
    assert_eq!(
        curl(&[
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{redirect_url}",
            &format!("{base}/redirect")
        ]),
        format!("302 {base}/files/hello.txt")
    );
}

#[test]
fn nghttp_thirty_concurrent_streams_on_one_connection() {
    if !installed("nghttp") {
        return;
    }
    let srv = start(ServerConfig::default());
    let out = Command::new("timeout")
        .args(["30", "nghttp", "-ns", "-m", "30"])
        .arg(format!("http://{}/files/big.bin", srv.addr))
        .output()
        .expect("nghttp");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let ok = text
        .lines()
        .filter(|l| l.contains(" 200 ") && l.contains("/files/big.bin"))
        .count();
    assert_eq!(ok, 30, "30 responses of 200: {text}");
}

#[test]
fn h2load_completes_every_request() {
    if !installed("h2load") {
        return;
    }
    let srv = start(ServerConfig::default());
    let out = Command::new("timeout")
        .args(["60", "h2load", "-n", "4000", "-c", "8", "-m", "16"])
        .arg(format!("http://{}/files/hello.txt", srv.addr))
        .output()
        .expect("h2load");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("4000 total, 4000 started, 4000 done, 4000 succeeded, 0 failed"),
        "{text}"
    );
    assert!(good_client_served(srv.addr));
}

/// An HPACK header block for `method path`.
fn request_block(method: &str, path: &str) -> Vec<u8> {
    loona_hpack::Encoder::new().encode([
        (&b":method"[..], method.as_bytes()),
        (b":scheme", b"http"),
        (b":path", path.as_bytes()),
        (b":authority", b"t"),
    ])
}

fn hello() -> Vec<u8> {
    let mut v = PREFACE.to_vec();
    v.extend(raw_frame(kind::SETTINGS, 0, 0, &[]));
    v
}

#[test]
fn hostile_clients_get_goaway_and_only_their_connection_closes() {
    let srv = start(ServerConfig::default());
    let mut continuation_flood = raw_frame(kind::HEADERS, 0, 1, &[0x82; 1000]);
    for _ in 0..100 {
        continuation_flood.extend(raw_frame(kind::CONTINUATION, 0, 1, &[0x82; 1000]));
    }
    let cases: Vec<(&str, Vec<u8>, u32)> = vec![
        (
            "frame over SETTINGS_MAX_FRAME_SIZE: FRAME_SIZE_ERROR",
            raw_frame(kind::PING, 0, 0, &[0; 20_000]),
            0x6,
        ),
        (
            "undecodable HPACK: COMPRESSION_ERROR",
            raw_frame(kind::HEADERS, flag::END_HEADERS, 1, &[0xff; 8]),
            0x9,
        ),
        (
            "endless CONTINUATION: ENHANCE_YOUR_CALM",
            continuation_flood,
            0xb,
        ),
    ];
    for (what, frames, code) in cases {
        let mut c = Raw::bare(srv.addr);
        c.send(&hello());
        c.send(&frames);
        assert_eq!(
            goaway(&c.until(|h| h.kind == kind::GOAWAY)),
            Some(code),
            "{what}"
        );
    }
    // A PING is answered, and after all that a good client is served.
    let mut c = Raw::bare(srv.addr);
    c.send(&hello());
    c.send(&raw_frame(kind::PING, 0, 0, b"pingpong"));
    let got = c.until(|h| h.kind == kind::PING);
    assert!(
        got.iter()
            .any(|(h, p)| h.kind == kind::PING && h.has(flag::ACK) && p == b"pingpong")
    );
    assert!(good_client_served(srv.addr));
}

#[test]
fn idle_connection_gets_goaway_after_the_keepalive_timeout() {
    let srv = start(ServerConfig {
        keepalive_timeout: Duration::from_millis(300),
        ..ServerConfig::default()
    });
    let mut c = Raw::bare(srv.addr);
    c.send(&hello());
    let started = std::time::Instant::now();
    let frames = c.until(|_| false); // until the server closes
    let waited = started.elapsed();
    assert_eq!(goaway(&frames), Some(0), "GOAWAY(NO_ERROR) before closing");
    assert!(
        waited >= Duration::from_millis(250),
        "not before the timeout: {waited:?}"
    );
    assert!(waited < Duration::from_secs(5), "closed: {waited:?}");
}

#[test]
fn stopping_the_context_sends_goaway() {
    let srv = start(ServerConfig::default());
    let mut c = Raw::bare(srv.addr);
    c.send(&hello());
    // The server's SETTINGS arrive once it runs the HTTP/2 role.
    c.until(|h| h.kind == kind::SETTINGS && !h.has(flag::ACK));
    srv.remote.stop();
    assert_eq!(goaway(&c.until(|h| h.kind == kind::GOAWAY)), Some(0));
}

#[test]
fn stalled_upload_is_closed_after_the_body_timeout() {
    let srv = start(ServerConfig {
        body_timeout: Duration::from_millis(300),
        ..ServerConfig::default()
    });
    let block = request_block("POST", "/upload");
    let mut c = Raw::bare(srv.addr);
    c.send(&hello());
    c.send(&raw_frame(kind::HEADERS, flag::END_HEADERS, 1, &block));
    let started = std::time::Instant::now();
    let frames = c.until(|_| false);
    let waited = started.elapsed();
    assert!(goaway(&frames).is_some(), "GOAWAY before closing");
    assert!(waited >= Duration::from_millis(250), "{waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    assert!(good_client_served(srv.addr));
}

/// A Python `h2` client (an independent HTTP/2 implementation) with
/// tiny receive windows downloading five 1 MB files at once, then
/// uploading 300 kB while obeying the server's windows.
const PY_H2: &str = r#"
import socket, sys, h2.connection, h2.config, h2.events, h2.settings
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port), timeout=20)
c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
c.local_settings = h2.settings.Settings(client=True, initial_values={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1024})
c.initiate_connection()
hdr = lambda m, p: [(":method", m), (":path", p), (":scheme", "http"), (":authority", "t")]
got, done, status = {}, set(), {}
for i in range(5):
    c.send_headers(2 * i + 1, hdr("GET", "/files/big.bin"), end_stream=True)
s.sendall(c.data_to_send())
def pump(until):
    while not until():
        data = s.recv(65536)
        if not data:
            raise SystemExit("server closed")
        for e in c.receive_data(data):
            if isinstance(e, h2.events.ResponseReceived):
                status[e.stream_id] = dict(e.headers)[b":status"]
            elif isinstance(e, h2.events.DataReceived):
                got[e.stream_id] = got.get(e.stream_id, b"") + e.data
                c.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
            elif isinstance(e, h2.events.StreamEnded):
                done.add(e.stream_id)
        s.sendall(c.data_to_send())
pump(lambda: len(done) == 5)
print("downloads", sorted(len(v) for v in got.values()), sorted(status.values()))
body = b"u" * 300000
c.send_headers(11, hdr("POST", "/upload"))
sent = 0
while sent < len(body):
    n = min(c.local_flow_control_window(11), c.max_outbound_frame_size, len(body) - sent)
    if n == 0:
        pump(lambda: c.local_flow_control_window(11) > 0)
        continue
    c.send_data(11, body[sent:sent + n], end_stream=(sent + n == len(body)))
    sent += n
    s.sendall(c.data_to_send())
pump(lambda: 11 in done)
print("upload", status[11].decode(), got[11].decode().strip())
"#;

#[test]
fn python_h2_client_small_windows_and_upload_under_flow_control() {
    if !lws_conformance::peer::python_has("h2") {
        return;
    }
    let srv = start(ServerConfig::default());
    let out = Command::new("timeout")
        .args(["60", "python3", "-c", PY_H2, &srv.addr.port().to_string()])
        .output()
        .expect("python3");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        text,
        "downloads [1000000, 1000000, 1000000, 1000000, 1000000] [b'200', b'200', b'200', b'200', b'200']\n\
         upload 200 received 300000 bytes\n"
    );
}

/// Stopping the context lets a stream in progress finish: GOAWAY first,
/// then the rest of the response once the client opens its windows.
#[test]
fn context_stop_drains_streams_in_progress() {
    let srv = start(ServerConfig::default());
    let block = request_block("GET", "/files/big.bin");
    let mut c = Raw::bare(srv.addr);
    c.send(&hello());
    c.send(&raw_frame(
        kind::HEADERS,
        flag::END_HEADERS | flag::END_STREAM,
        1,
        &block,
    ));
    // The default 65,535-byte window: the server sends that much, waits.
    let mut got = 0usize;
    let frames = c.until(|h| h.kind == kind::DATA && h.stream == 1);
    got += frames
        .iter()
        .filter(|(h, _)| h.kind == kind::DATA)
        .map(|(h, _)| h.len as usize)
        .sum::<usize>();
    srv.remote.stop();
    let frames = c.until(|h| h.kind == kind::GOAWAY);
    got += frames
        .iter()
        .filter(|(h, _)| h.kind == kind::DATA)
        .map(|(h, _)| h.len as usize)
        .sum::<usize>();
    assert_eq!(goaway(&frames), Some(0), "GOAWAY(NO_ERROR) first");
    let more = 1u32 << 20;
    c.send(&raw_frame(kind::WINDOW_UPDATE, 0, 0, &more.to_be_bytes()));
    c.send(&raw_frame(kind::WINDOW_UPDATE, 0, 1, &more.to_be_bytes()));
    let rest = c.until(|h| h.kind == kind::DATA && h.has(flag::END_STREAM));
    got += rest
        .iter()
        .filter(|(h, _)| h.kind == kind::DATA)
        .map(|(h, _)| h.len as usize)
        .sum::<usize>();
    assert_eq!(got, 1_000_000, "the whole file after GOAWAY");
    assert!(c.until(|_| false).is_empty(), "then the connection closes");
}

/// The preface split across reads is held by the HTTP/1 role until it is
/// whole, then handed to HTTP/2; a request that only starts like it
/// (`PRI` is a valid method name) stays HTTP/1.
#[test]
fn preface_in_pieces_and_lookalike_requests() {
    let srv = start(ServerConfig::default());
    let mut c = Raw::bare(srv.addr);
    for piece in hello().chunks(5) {
        c.send(piece);
        std::thread::sleep(Duration::from_millis(5));
    }
    c.send(&raw_frame(kind::PING, 0, 0, b"in parts"));
    let got = c.until(|h| h.kind == kind::PING);
    assert!(
        got.iter()
            .any(|(h, p)| h.has(flag::ACK) && p == b"in parts")
    );
    let reply = common::raw(
        srv.addr,
        b"PRI /files/hello.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert!(reply.starts_with("HTTP/1.1 "), "{reply}");
}
