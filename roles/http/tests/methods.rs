//! Request methods over real sockets, on both HTTP versions (RFC 9110
//! §9): case-sensitive names, 501 for unknown methods and for CONNECT
//! unless the protocol opted in, 405 with `Allow` (and OPTIONS) from a
//! file mount for a resource it holds, the handler for everything else.

mod common;

use common::h2raw::{self, block};
use common::{raw, start, status};
use lws_role_http::ServerConfig;

/// One row: (rule, method, target, body, expected status, expected Allow).
type Row = (
    &'static str,
    &'static str,
    &'static str,
    bool,
    u16,
    Option<&'static str>,
);

const ALLOW: Option<&str> = Some("GET, HEAD, OPTIONS");

fn rows() -> Vec<Row> {
    vec![
        (
            "a mount serves GET",
            "GET",
            "/files/hello.txt",
            false,
            200,
            None,
        ),
        (
            "§9.1 methods are case-sensitive",
            "get",
            "/files/hello.txt",
            false,
            501,
            None,
        ),
        (
            "§15.6.2 unknown method",
            "BREW",
            "/files/hello.txt",
            false,
            501,
            None,
        ),
        (
            "§15.6.2 unknown method, handler path",
            "BREW",
            "/upload",
            false,
            501,
            None,
        ),
        (
            "§15.5.6 405 + Allow from a mount",
            "DELETE",
            "/files/hello.txt",
            false,
            405,
            ALLOW,
        ),
        (
            "§15.5.6 405 + Allow, with a body",
            "POST",
            "/files/hello.txt",
            true,
            405,
            ALLOW,
        ),
        (
            "§15.5.6 405 + Allow on a directory",
            "PUT",
            "/files/sub/",
            false,
            405,
            ALLOW,
        ),
        (
            "§9.3.7 OPTIONS on a mount",
            "OPTIONS",
            "/files/hello.txt",
            false,
            204,
            ALLOW,
        ),
        (
            "nothing there: the handler's",
            "DELETE",
            "/files/none.txt",
            false,
            404,
            None,
        ),
        (
            "a known method: the handler's",
            "PUT",
            "/upload",
            true,
            200,
            None,
        ),
        (
            "§9.3.6 CONNECT to an origin",
            "CONNECT",
            "example.test:443",
            false,
            501,
            None,
        ),
    ]
}

/// Send one HTTP/1.1 request; status and `Allow` of the answer.
fn h1(addr: std::net::SocketAddr, method: &str, target: &str, body: bool) -> (u16, Option<String>) {
    let body = if body {
        "Content-Length: 4\r\n\r\nbody"
    } else {
        "\r\n"
    };
    let req = format!("{method} {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{body}");
    let text = raw(addr, req.as_bytes());
    let allow = text
        .lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix("Allow: ").map(str::to_owned));
    (status(&text), allow)
}

/// The same request on HTTP/2 (prior knowledge, raw frames).
fn h2(addr: std::net::SocketAddr, method: &str, target: &str, body: bool) -> (u16, Option<String>) {
    let head = match method {
        "CONNECT" => block(&[(":method", method), (":authority", target)]),
        _ => block(&[
            (":method", method),
            (":scheme", "http"),
            (":path", target),
            (":authority", "t"),
        ]),
    };
    let reply = h2raw::request(addr, &head, body.then_some(b"body".as_slice()));
    (reply.status, reply.header("allow").map(str::to_owned))
}

#[test]
fn each_method_rule_on_http1_and_http2() {
    let srv = start(ServerConfig::default());
    for (rule, method, target, body, want, allow) in rows() {
        for (version, got) in [
            ("HTTP/1.1", h1(srv.addr, method, target, body)),
            ("HTTP/2", h2(srv.addr, method, target, body)),
        ] {
            assert_eq!(got.0, want, "{rule}: {method} {target} over {version}");
            assert_eq!(got.1.as_deref(), allow, "{rule}: Allow over {version}");
        }
    }
}

/// With `connect` (and an extra method) opted in, those reach the
/// handler, which answers 404 to them.
#[test]
fn opted_in_methods_reach_the_handler() {
    let srv = start(ServerConfig {
        connect: true,
        methods: vec!["PROPFIND".into()],
        ..ServerConfig::default()
    });
    for (method, target, want) in [
        ("CONNECT", "example.test:443", 404),
        ("PROPFIND", "/dav", 404),
        ("propfind", "/dav", 501),
    ] {
        assert_eq!(
            h1(srv.addr, method, target, false).0,
            want,
            "{method} over HTTP/1.1"
        );
        assert_eq!(
            h2(srv.addr, method, target, false).0,
            want,
            "{method} over HTTP/2"
        );
    }
}

/// curl as an independent client, on both versions.
#[test]
fn curl_sees_501_and_405_on_both_versions() {
    if !lws_conformance::peer::installed("curl") {
        return;
    }
    let srv = start(ServerConfig::default());
    let url = format!("http://{}/files/hello.txt", srv.addr);
    for version in ["--http1.1", "--http2-prior-knowledge"] {
        for (method, want) in [("BREW", "501"), ("get", "501"), ("DELETE", "405")] {
            let out = std::process::Command::new("curl")
                .args([
                    "-sS",
                    "--max-time",
                    "20",
                    "-o",
                    "/dev/null",
                    "-w",
                    "%{http_code}",
                ])
                .args([version, "-X", method, &url])
                .output()
                .expect("curl");
            let got = String::from_utf8_lossy(&out.stdout);
            assert_eq!(got, want, "curl {version} -X {method}");
        }
    }
}
