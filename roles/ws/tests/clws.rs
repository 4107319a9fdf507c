//! Debian's C libwebsockets test apps as peers: its test client against an
//! lws-rs server speaking its two protocols, and the lws-rs client against
//! its test server; plain and TLS, with permessage-deflate (both sides
//! negotiate it by default).

mod common;

use std::collections::VecDeque;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Sender, channel};
use std::thread;
use std::time::Duration;

use common::{handler, run_client, serve};
use lws_core::{TlsClientSpec, TlsServerSpec};
use lws_role_ws::client::{self, ClientOptions};
use lws_role_ws::{Message, WsConfig, WsCx, WsEvent, WsHandler, WsProtocol};

const C_CLIENT: &str = "libwebsockets-test-client";
const C_SERVER: &str = "libwebsockets-test-server";

use lws_conformance::peer::installed;

/// Sends the next integer every 20 ms (the C test server's protocol).
struct DumbIncrement {
    seen: Sender<&'static str>,
}

impl WsHandler for DumbIncrement {
    type Session = u64;
    fn on_event(&mut self, cx: &mut WsCx<'_, '_>, n: &mut u64, ev: WsEvent<'_>) {
        match ev {
            WsEvent::Established => {
                let _ = self.seen.send("dumb");
                cx.conn().set_timer(Duration::from_millis(20), 1);
            }
            WsEvent::Timer(1) => {
                let _ = cx.send_text(&n.to_string());
                *n += 1;
                cx.conn().set_timer(Duration::from_millis(20), 1);
            }
            _ => {}
        }
    }
}

/// Relays every message to every mirror client.
struct Mirror {
    seen: Sender<&'static str>,
    ring: VecDeque<(u64, String)>,
    next: u64,
}

impl WsHandler for Mirror {
    type Session = u64;
    fn on_event(&mut self, cx: &mut WsCx<'_, '_>, at: &mut u64, ev: WsEvent<'_>) {
        match ev {
            WsEvent::Established => {
                let _ = self.seen.send("mirror");
                *at = self.next;
            }
            WsEvent::Message(Message::Text(t)) => {
                let _ = self.seen.send("message");
                self.ring.push_back((self.next, t.to_owned()));
                self.next += 1;
                if self.ring.len() > 64 {
                    self.ring.pop_front();
                }
                cx.conn().cx().request_writable_all();
            }
            WsEvent::Writable => {
                let oldest = self.ring.front().map_or(self.next, |(s, _)| *s);
                *at = (*at).max(oldest);
                if let Some((s, t)) = self.ring.iter().find(|(s, _)| *s == *at) {
                    let _ = cx.send_text(t);
                    *at = s + 1;
                }
                if *at < self.next {
                    cx.request_writable();
                }
            }
            _ => {}
        }
    }
}

/// Run the C test client for 3 s against an lws-rs server; returns what
/// the server saw (events by name) and the client's log.
fn c_client_against_lws(tls: bool) -> (Vec<&'static str>, String) {
    // The C client can only be told to accept self-signed certificates.
    let cert = lws_tls_rustls::testcert::self_signed(&["localhost", "127.0.0.1"]).expect("cert");
    let spec = tls.then(|| TlsServerSpec::from_pem(cert.cert_pem, cert.key_pem));
    let (tx, rx) = channel();
    let srv = serve(spec, "dumb-increment-protocol", move |vh| {
        let dumb = DumbIncrement { seen: tx.clone() };
        let mirror = Mirror {
            seen: tx,
            ring: VecDeque::new(),
            next: 0,
        };
        vh.protocol(
            "dumb-increment-protocol",
            WsProtocol::new(dumb).subprotocol("dumb-increment-protocol"),
        )
        .protocol(
            "lws-mirror-protocol",
            WsProtocol::new(mirror).subprotocol("lws-mirror-protocol"),
        )
    });
    let mut args = vec![
        "127.0.0.1".to_owned(),
        format!("--port={}", srv.addr.port()),
    ];
    if tls {
        args.extend(["--ssl".to_owned(), "-s".to_owned()]);
    }
    let out = Command::new("timeout")
        .arg("3")
        .arg(C_CLIENT)
        .args(&args)
        .output()
        .expect("run the C client");
    let log =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    drop(srv);
    (rx.try_iter().collect(), log)
}

#[test]
fn c_test_client_against_lws_server() {
    if !installed(C_CLIENT) {
        panic!(
            "{C_CLIENT} not installed (Debian package libwebsockets-test-server; .ci/deps.sh installs it)"
        );
    }
    for tls in [false, true] {
        let (_, log) = c_client_against_lws(tls);
        assert!(
            log.contains("mirror: LWS_CALLBACK_CLIENT_ESTABLISHED"),
            "tls {tls}: mirror not established:\n{log}"
        );
        assert!(
            !log.contains("CLIENT_CONNECTION_ERROR"),
            "tls {tls}: connection error:\n{log}"
        );
        assert!(
            log.contains("instantiating client ext permessage-deflate"),
            "tls {tls}: deflate not negotiated:\n{log}"
        );
    }
}

const OPENSSL_LOW_SECLEVEL: &str = "openssl_conf = default_conf
[default_conf]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
CipherString = DEFAULT@SECLEVEL=0
";

struct CServer(Child);

impl Drop for CServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn c_server(tls: bool) -> (CServer, u16) {
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("probe")
        .local_addr()
        .expect("addr")
        .port();
    let mut cmd = Command::new(C_SERVER);
    cmd.args(["--port", &port.to_string(), "--interface", "lo", "-d", "1"]);
    if tls {
        // The packaged test certificate is 1024-bit RSA, which OpenSSL 3
        // refuses at its default security level; lower it for this peer.
        let conf = std::env::temp_dir().join(format!("lws-ossl-{}.cnf", std::process::id()));
        std::fs::write(&conf, OPENSSL_LOW_SECLEVEL).expect("openssl conf");
        cmd.arg("--ssl").env("OPENSSL_CONF", conf);
    }
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("C test server");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        thread::sleep(Duration::from_millis(50));
    }
    (CServer(child), port)
}

/// Reads three increments on one connection, gets a mirrored message
/// back on the other.
#[derive(Default)]
struct CPeer {
    numbers: Vec<u64>,
    mirrored: bool,
    compressed: Vec<bool>,
    closed: usize,
    errors: Vec<String>,
}

impl WsHandler for CPeer {
    type Session = ();
    fn on_event(&mut self, cx: &mut WsCx<'_, '_>, _: &mut (), ev: WsEvent<'_>) {
        match ev {
            WsEvent::Established => {
                self.compressed.push(cx.compression());
                if cx.subprotocol() == Some("lws-mirror-protocol") {
                    cx.send_text("c #7f0000 10 20 30;").expect("send");
                }
            }
            WsEvent::Message(Message::Text(t))
                if cx.subprotocol() == Some("dumb-increment-protocol") =>
            {
                if let Ok(n) = t.trim().parse() {
                    self.numbers.push(n);
                }
                if self.numbers.len() == 3 {
                    cx.close(1000, "");
                }
            }
            WsEvent::Message(Message::Text("c #7f0000 10 20 30;")) => {
                self.mirrored = true;
                cx.close(1000, "");
            }
            WsEvent::Closed { .. } => {
                self.closed += 1;
                if self.closed == 2 {
                    cx.conn().cx().stop();
                }
            }
            WsEvent::ConnectError(e) => {
                self.errors.push(e.to_string());
                cx.conn().cx().stop();
            }
            _ => {}
        }
    }
}

#[test]
fn lws_client_against_c_test_server() {
    if !installed(C_SERVER) {
        panic!(
            "{C_SERVER} not installed (Debian package libwebsockets-test-server; .ci/deps.sh installs it)"
        );
    }
    for tls in [false, true] {
        let (_srv, port) = c_server(tls);
        let scheme = if tls { "wss" } else { "ws" };
        // The C test server's certificate is 1024-bit RSA without SANs:
        // unverifiable by design, so this test alone skips verification.
        let spec = TlsClientSpec {
            insecure_skip_verify: true,
            ..Default::default()
        };
        let mut ctx = run_client(CPeer::default(), WsConfig::default(), Some(spec), |ctx| {
            for proto in ["dumb-increment-protocol", "lws-mirror-protocol"] {
                let opts = ClientOptions {
                    subprotocols: vec![proto.to_owned()],
                    ..Default::default()
                };
                client::connect(ctx, &format!("{scheme}://localhost:{port}/"), "c", opts)
                    .expect("connect");
            }
        });
        let h = handler::<CPeer>(&mut ctx);
        assert!(h.errors.is_empty(), "tls {tls}: {:?}", h.errors);
        assert_eq!(h.numbers.len(), 3, "tls {tls}");
        assert!(
            h.numbers.windows(2).all(|w| w[1] == w[0] + 1),
            "increments: {:?}",
            h.numbers
        );
        assert!(h.mirrored, "tls {tls}: mirror message came back");
        // Debian's test server does not enable permessage-deflate (it
        // declines Python websockets' offer too); the C client, below,
        // does negotiate it with our server.
        assert_eq!(
            h.compressed,
            vec![false, false],
            "tls {tls}: the C server declined deflate"
        );
    }
}
