//! Python `websockets` as the peer with permessage-deflate window bits
//! in both directions (`server_max_window_bits`, `client_max_window_bits`
//! with and without a value), against the lws server and the lws client.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::echo_server;
use common::probe::connect_to;
use lws_role_ws::WsConfig;

const PY_CLIENT: &str = r#"
import asyncio, sys, websockets
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
url, smwb, cmwb = sys.argv[1], sys.argv[2], sys.argv[3]
f = ClientPerMessageDeflateFactory(
    server_max_window_bits=int(smwb) if smwb != "-" else None,
    client_max_window_bits=True if cmwb == "novalue" else int(cmwb))
block = "".join(chr(97 + ((i * 2654435761) % 2**32 >> 27) % 26) for i in range(8192))
msg = block * 4
async def main():
    async with websockets.connect(url, extensions=[f], compression=None, max_size=2**24) as ws:
        await ws.send(msg)
        back = await ws.recv()
        print(back == msg, ws.response.headers.get("Sec-WebSocket-Extensions") or "none")
asyncio.run(main())
"#;

#[test]
fn python_client_with_window_bits_against_lws_server() {
    if !lws_conformance::peer::python_has("websockets") {
        return;
    }
    let srv = echo_server(
        false,
        WsConfig {
            max_window_bits: 11,
            ..WsConfig::default()
        },
    );
    let url = format!("ws://127.0.0.1:{}/", srv.addr.port());
    for (smwb, cmwb, answer) in [
        (
            "-",
            "novalue",
            "permessage-deflate; server_max_window_bits=11; client_max_window_bits=11",
        ),
        (
            "9",
            "10",
            "permessage-deflate; server_max_window_bits=9; client_max_window_bits=10",
        ),
        (
            "12",
            "15",
            "permessage-deflate; server_max_window_bits=11; client_max_window_bits=11",
        ),
        (
            "8",
            "novalue",
            "permessage-deflate; server_max_window_bits=8; client_max_window_bits=11",
        ),
    ] {
        let out = Command::new("python3")
            .args(["-c", PY_CLIENT, &url, smwb, cmwb])
            .output()
            .expect("python3");
        assert!(
            out.status.success(),
            "{smwb} {cmwb}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            format!("True {answer}"),
            "server_max_window_bits {smwb}, client_max_window_bits {cmwb}"
        );
    }
}

const PY_SERVER: &str = r#"
import asyncio, sys, websockets
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
smwb, cmwb = sys.argv[1], sys.argv[2]
f = ServerPerMessageDeflateFactory(
    server_max_window_bits=int(smwb) if smwb != "-" else None,
    client_max_window_bits=int(cmwb) if cmwb != "-" else None)
async def echo(ws):
    async for m in ws:
        await ws.send(m)
async def main():
    async with websockets.serve(echo, "127.0.0.1", 0, extensions=[f], compression=None, max_size=2**24) as s:
        print(list(s.sockets)[0].getsockname()[1], flush=True)
        await asyncio.Future()
asyncio.run(main())
"#;

struct Py(std::process::Child);

impl Drop for Py {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn lws_client_with_window_bits_against_python_server() {
    if !lws_conformance::peer::python_has("websockets") {
        return;
    }
    for (smwb, cmwb, ours) in [
        ("10", "9", 15u8),
        ("-", "-", 10),
        ("12", "-", 10),
        ("-", "9", 15),
    ] {
        let mut child = Command::new("python3")
            .args(["-c", PY_SERVER, smwb, cmwb])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3");
        let out = child.stdout.take().expect("stdout");
        let py = Py(child);
        let mut line = String::new();
        BufReader::new(out).read_line(&mut line).expect("port");
        let url = format!("ws://127.0.0.1:{}/", line.trim());
        let config = WsConfig {
            max_window_bits: ours,
            ..WsConfig::default()
        };
        let p = connect_to(&url, config);
        drop(py);
        let case = format!("server {smwb} client {cmwb} ours {ours}");
        assert_eq!(p.error, None, "{case}");
        assert_eq!(p.compression, Some(true), "{case}");
        assert!(p.echo_ok, "{case}");
        assert_eq!(p.closed, Some(1000), "{case}");
    }
}
