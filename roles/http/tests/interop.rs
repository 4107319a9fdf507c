//! Real peers against the server: curl (keep-alive, chunked upload, Range,
//! 100-continue, HEAD, conditional GET, redirects, path escapes, chunked
//! responses) and Python's http.client and requests.

mod common;

use std::process::Command;

use common::start;
use lws_role_http::ServerConfig;

fn curl(args: &[&str]) -> (String, String) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "20"])
        .args(args)
        .output()
        .expect("curl is installed");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn python(script: &str, args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 is installed");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn curl_reuses_the_connection() {
    if !lws_conformance::peer::installed("curl") {
        return;
    }
    let srv = start(ServerConfig::default());
    let u = format!("http://{}/files/hello.txt", srv.addr);
    let (body, log) = curl(&["-v", &u, &u]);
    assert_eq!(body, "hello, world\nhello, world\n");
    assert!(log.contains("Re-using existing connection"), "{log}");
}

#[test]
fn curl_chunked_upload() {
    if !lws_conformance::peer::installed("curl") {
        return;
    }
    let srv = start(ServerConfig::default());
    let file = srv.dir.join("big.bin");
    let (body, _) = curl(&[
        "-H",
        "Transfer-Encoding: chunked",
        "--data-binary",
        &format!("@{}", file.display()),
        &format!("http://{}/upload", srv.addr),
    ]);
    assert_eq!(body, "received 1000000 bytes\n");
    // The same body paused at its first chunk, resumed on the next
    // writable (pause_rx on HTTP/1).
    let (body, _) = curl(&[
        "--data-binary",
        &format!("@{}", file.display()),
        &format!("http://{}/pause-upload", srv.addr),
    ]);
    assert_eq!(body, "received 1000000 bytes after 1 pause\n");
}

#[test]
fn curl_expect_100_continue() {
    if !lws_conformance::peer::installed("curl") {
        return;
    }
    let srv = start(ServerConfig::default());
    let file = srv.dir.join("big.bin");
    let (body, log) = curl(&[
        "-v",
        "-H",
        "Expect: 100-continue",
        "--data-binary",
        &format!("@{}", file.display()),
        &format!("http://{}/upload", srv.addr),
    ]);
    assert!(log.contains("HTTP/1.1 100 Continue"), "{log}");
    assert_eq!(body, "received 1000000 bytes\n");
}

#[test]
fn curl_range_requests() {
    if !lws_conformance::peer::installed("curl") {
        return;
    }
    let srv = start(ServerConfig::default());
    let u = format!("http://{}/files/big.bin", srv.addr);
    let (body, _) = curl(&["-r", "10-19", "-w", " %{http_code}", &u]);
    let expect: Vec<u8> = (10..20u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(body.as_bytes()[..10], expect[..]);
    assert!(body.ends_with(" 206"));
    let (code, _) = curl(&[
        "-r",
        "2000000-",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        &u,
    ]);
    assert_eq!(code, "416");
}

#[test]
fn curl_large_file_head_and_conditional_get() {
    if !lws_conformance::peer::installed("curl") {
        return;
    }
    let srv = start(ServerConfig::default());
    let u = format!("http://{}/files/big.bin", srv.addr);
    let out = srv.dir.join("download.bin");
    let (size, _) = curl(&[
        "-o",
        &out.display().to_string(),
        "-w",
        "%{size_download}",
        &u,
    ]);
    assert_eq!(size, "1000000");
    assert_eq!(
        std::fs::read(&out).expect("downloaded"),
        std::fs::read(srv.dir.join("big.bin")).expect("original")
    );
    let (head, _) = curl(&["-I", &u]);
    assert!(head.contains("Content-Length: 1000000"), "{head}");
    let etag = head
        .lines()
        .find_map(|l| l.strip_prefix("ETag: "))
        .expect("etag")
        .trim()
        .to_owned();
    let (code, _) = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-H",
        &format!("If-None-Match: {etag}"),
        &u,
    ]);
    assert_eq!(code, "304");
}

#[test]
fn curl_directories_redirects_and_escapes() {
    if !lws_conformance::peer::installed("curl") {
        return;
    }
    let srv = start(ServerConfig::default());
    let base = format!("http://{}", srv.addr);
    let (code, _) = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{redirect_url}",
        &format!("{base}/files/sub"),
    ]);
    assert_eq!(code, format!("301 {base}/files/sub/"));
    let (body, _) = curl(&["-L", &format!("{base}/files/sub")]);
    assert_eq!(body, "<h1>sub</h1>\n");
    let (body, _) = curl(&["-L", &format!("{base}/redirect")]);
    assert_eq!(body, "hello, world\n");
    for escape in [
        "/files/../../../../etc/passwd",
        "/files/%2e%2e/%2e%2e/etc/passwd",
        "/files/sub/../../x",
    ] {
        let (out, _) = curl(&[
            "--path-as-is",
            "-w",
            "%{http_code}",
            &format!("{base}{escape}"),
        ]);
        assert!(
            out.ends_with("403") || out.ends_with("404"),
            "{escape}: {out}"
        );
        assert!(!out.contains("root:"), "{escape} escaped the mount");
    }
}

#[test]
fn curl_streamed_chunked_response() {
    if !lws_conformance::peer::installed("curl") {
        return;
    }
    let srv = start(ServerConfig::default());
    let (body, log) = curl(&["-v", &format!("http://{}/slow-stream", srv.addr)]);
    assert_eq!(body, "chunk 1\nchunk 2\nchunk 3\nchunk 4\nchunk 5\n");
    assert!(
        log.to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{log}"
    );
}

const HTTP_CLIENT: &str = r#"
import http.client, sys
host, port = sys.argv[1], int(sys.argv[2])
c = http.client.HTTPConnection(host, port, timeout=10)
out = []
for i in range(5):
    c.request("GET", "/files/hello.txt")
    r = c.getresponse()
    out.append("%d %s" % (r.status, r.read().decode().strip()))
c.request("POST", "/echo", body=b"x" * 70000, headers={"Content-Type": "application/octet-stream"})
r = c.getresponse()
out.append("%d %d" % (r.status, len(r.read())))
c.request("GET", "/nope")
r = c.getresponse(); r.read()
out.append("%d" % r.status)
print("|".join(out))
"#;

#[test]
fn python_http_client_keep_alive() {
    if !lws_conformance::peer::installed("python3") {
        return;
    }
    let srv = start(ServerConfig::default());
    let port = srv.addr.port().to_string();
    let out = python(HTTP_CLIENT, &["127.0.0.1", &port]);
    let hello = "200 hello, world";
    assert_eq!(
        out.trim(),
        format!("{hello}|{hello}|{hello}|{hello}|{hello}|200 70000|404")
    );
}

const REQUESTS: &str = r#"
import sys
try:
    import requests
except ImportError:
    print("requests missing"); sys.exit(3)
base = sys.argv[1]
s = requests.Session()
a = s.get(base + "/files/hello.txt")
def gen():
    for i in range(10):
        yield b"y" * 1000
b = s.post(base + "/upload", data=gen())   # chunked upload
c = s.get(base + "/files/big.bin", headers={"Range": "bytes=-5"})
print(a.status_code, a.text.strip(), b.text.strip(), c.status_code, len(c.content))
"#;

#[test]
fn python_requests_session() {
    if !lws_conformance::peer::python_has("requests") {
        return;
    }
    let srv = start(ServerConfig::default());
    let out = python(REQUESTS, &[&format!("http://{}", srv.addr)]);
    assert_eq!(out.trim(), "200 hello, world received 10000 bytes 206 5");
}
