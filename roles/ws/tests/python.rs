//! Python `websockets` as the peer, both directions, with and without TLS
//! and permessage-deflate.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::{echo_server, handler, run_client, temp_file};
use lws_core::TlsClientSpec;
use lws_role_ws::client::{self, ClientOptions};
use lws_role_ws::{Message, WsConfig, WsCx, WsEvent, WsHandler};

const PY_CLIENT: &str = r#"
import asyncio, ssl, sys, websockets
url, cafile, comp = sys.argv[1], sys.argv[2], sys.argv[3]
async def main():
    ctx = None
    if url.startswith("wss"):
        ctx = ssl.create_default_context(cafile=cafile)
    async with websockets.connect(url, ssl=ctx, compression=(None if comp == "none" else "deflate"), max_size=2**24) as ws:
        await ws.send("héllo")
        t = await ws.recv()
        blob = bytes(range(256)) * 800
        await ws.send(blob)
        b = await ws.recv()
        ext = ws.response.headers.get("Sec-WebSocket-Extensions") or "none"
        print(t == "héllo", b == blob, ext)
asyncio.run(main())
"#;

fn python_client(url: &str, cafile: &str, compression: &str) -> String {
    let out = Command::new("python3")
        .args(["-c", PY_CLIENT, url, cafile, compression])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "python websockets client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn python_client_to_lws_server_plain_tls_and_compression() {
    if !lws_conformance::peer::python_has("websockets") {
        return;
    }
    for tls in [false, true] {
        let srv = echo_server(tls, WsConfig::default());
        let ca = srv.ca_pem.as_deref().map(|c| temp_file("ca-py.pem", c));
        let scheme = if tls {
            "wss://localhost"
        } else {
            "ws://127.0.0.1"
        };
        let url = format!("{scheme}:{}/any/path", srv.addr.port());
        let cafile = ca
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        assert_eq!(
            python_client(&url, &cafile, "deflate"),
            "True True permessage-deflate",
            "tls {tls}"
        );
        assert_eq!(
            python_client(&url, &cafile, "none"),
            "True True none",
            "tls {tls}"
        );
    }
}

const PY_SERVER: &str = r#"
import asyncio, ssl, sys, websockets
cert, key, comp = sys.argv[1], sys.argv[2], sys.argv[3]
async def echo(ws):
    async for m in ws:
        await ws.send(m)
async def main():
    ctx = None
    if cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
    async with websockets.serve(echo, "127.0.0.1", 0, ssl=ctx, compression=(None if comp == "none" else "deflate"), max_size=2**24) as s:
        print(list(s.sockets)[0].getsockname()[1], flush=True)
        await asyncio.Future()
asyncio.run(main())
"#;

struct PyServer(Child);

impl Drop for PyServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn python_server(cert: &str, key: &str, compression: &str) -> (PyServer, u16) {
    let mut child = Command::new("python3")
        .args(["-c", PY_SERVER, cert, key, compression])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    let out = child.stdout.take().expect("stdout");
    BufReader::new(out).read_line(&mut line).expect("port line");
    let port = line.trim().parse().expect("port");
    (PyServer(child), port)
}

/// Sends a text and a binary message, expects both back, then closes.
#[derive(Default)]
struct Roundtrip {
    text_ok: bool,
    binary_ok: bool,
    compression: Option<bool>,
    closed: Option<u16>,
    error: Option<String>,
}

const BLOB_LEN: usize = 204_800;

impl WsHandler for Roundtrip {
    type Session = ();
    fn on_event(&mut self, cx: &mut WsCx<'_, '_>, _: &mut (), ev: WsEvent<'_>) {
        match ev {
            WsEvent::Established => {
                self.compression = Some(cx.compression());
                cx.send_text("héllo").expect("send");
                let blob: Vec<u8> = (0..BLOB_LEN).map(|i| (i % 256) as u8).collect();
                cx.send_binary(&blob).expect("send");
            }
            WsEvent::Message(Message::Text(t)) => self.text_ok = t == "héllo",
            WsEvent::Message(Message::Binary(b)) => {
                self.binary_ok =
                    b.len() == BLOB_LEN && b.iter().enumerate().all(|(i, v)| *v == (i % 256) as u8);
                cx.close(1000, "done");
            }
            WsEvent::Closed { code, .. } => {
                self.closed = Some(code);
                cx.conn().cx().stop();
            }
            WsEvent::ConnectError(e) => {
                self.error = Some(e.to_string());
                cx.conn().cx().stop();
            }
            _ => {}
        }
    }
}

#[test]
fn lws_client_to_python_server_plain_tls_and_compression() {
    if !lws_conformance::peer::python_has("websockets") {
        return;
    }
    let ca = lws_tls_rustls::testcert::TestCa::new("py ws CA").expect("ca");
    let leaf = ca.leaf(&["localhost"]).expect("leaf");
    let (cert, key) = (
        temp_file("py-cert.pem", &leaf.cert_pem),
        temp_file("py-key.pem", &leaf.key_pem),
    );
    for (tls, comp) in [
        (false, "deflate"),
        (false, "none"),
        (true, "deflate"),
        (true, "none"),
    ] {
        let (c, k) = if tls {
            (cert.display().to_string(), key.display().to_string())
        } else {
            (String::new(), String::new())
        };
        let (_py, port) = python_server(&c, &k, comp);
        let url = if tls {
            format!("wss://localhost:{port}/")
        } else {
            format!("ws://127.0.0.1:{port}/")
        };
        let spec = TlsClientSpec {
            ca_pem: ca.cert_pem.as_bytes().to_vec(),
            ..Default::default()
        };
        let mut ctx = run_client(
            Roundtrip::default(),
            WsConfig::default(),
            Some(spec),
            |ctx| {
                client::connect(ctx, &url, "c", ClientOptions::default()).expect("connect");
            },
        );
        let h = handler::<Roundtrip>(&mut ctx);
        assert_eq!(h.error, None, "tls {tls} {comp}");
        assert!(h.text_ok && h.binary_ok, "echoes intact (tls {tls} {comp})");
        assert_eq!(
            h.compression,
            Some(comp == "deflate"),
            "deflate negotiated as offered"
        );
        assert_eq!(h.closed, Some(1000), "clean closing handshake");
    }
}
