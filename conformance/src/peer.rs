//! Peer-side helpers: blocking loopback clients on plain std sockets (the
//! code under test never runs on this side), a watchdog, and common
//! handlers for the server side.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use lws_core::{CloseReason, ConnCx, Context, Endpoint, Remote, VhostBuilder};
use lws_role_raw::{RawEvent, RawHandler, RawProtocol};

/// How long any scenario may run before the watchdog stops it.
pub const SCENARIO_LIMIT: Duration = Duration::from_secs(60);

/// Stops the context if not disarmed (dropped) within `limit`.
#[derive(Debug)]
pub struct Watchdog {
    _disarm: mpsc::Sender<()>,
}

impl Watchdog {
    pub fn arm(remote: Remote, limit: Duration) -> Watchdog {
        let (tx, rx) = mpsc::channel::<()>();
        thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(limit) {
                eprintln!("watchdog: scenario exceeded {limit:?}, stopping context");
                remote.stop();
            }
        });
        Watchdog { _disarm: tx }
    }
}

/// Echo server handler in libwebsockets style: queue what arrives, ask for
/// writable, write it all in the one writable callback; pause reading while
/// too much is queued (back-pressure).
#[derive(Debug, Default)]
pub struct Echo {
    pub opened: usize,
    pub rx_bytes: u64,
    pub closed: Vec<CloseReason>,
}

/// Pause reading above this much queued output.
const ECHO_HIGH_WATER: usize = 256 * 1024;

impl RawHandler for Echo {
    type Session = Vec<u8>;

    fn on_event(&mut self, cx: &mut ConnCx<'_>, queued: &mut Vec<u8>, ev: RawEvent<'_>) {
        match ev {
            RawEvent::Opened(_) => self.opened += 1,
            RawEvent::Rx(data) => {
                self.rx_bytes += data.len() as u64;
                queued.extend_from_slice(data);
                cx.request_writable();
                if queued.len() > ECHO_HIGH_WATER {
                    cx.pause_rx(true);
                }
            }
            RawEvent::Writable => {
                if cx.write(queued).is_ok() {
                    queued.clear();
                }
                cx.pause_rx(false);
            }
            RawEvent::Closed(reason) => self.closed.push(reason.clone()),
            _ => {}
        }
    }
}

/// A context with one vhost listening on an ephemeral loopback port.
pub fn tcp_server<H: lws_role_raw::RawHandler>(handler: H) -> (Context, SocketAddr) {
    tcp_server_with(handler, |v| v)
}

pub fn tcp_server_with<H: lws_role_raw::RawHandler>(
    handler: H,
    tweak: impl FnOnce(VhostBuilder) -> VhostBuilder,
) -> (Context, SocketAddr) {
    let vh = VhostBuilder::new("default")
        .listen(Endpoint::Tcp(SocketAddr::from(([127, 0, 0, 1], 0))))
        .protocol("p", RawProtocol::new(handler));
    let ctx = Context::builder()
        .vhost(tweak(vh))
        .build()
        .expect("context");
    let addr = match ctx.bound_endpoints("default").expect("vhost").first() {
        Some(Endpoint::Tcp(a)) => *a,
        other => panic!("unexpected bound endpoint {other:?}"),
    };
    (ctx, addr)
}

/// The handler of the context's default protocol.
pub fn handler<H: RawHandler>(ctx: &mut Context) -> &mut H {
    ctx.protocol_mut::<RawProtocol<H>>("default", "p")
        .expect("protocol p")
        .handler_mut()
}

/// A blocking client with generous timeouts so a bug fails, not hangs.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect to server under test");
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    s.set_write_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let _ = s.set_nodelay(true);
    s
}

/// Read exactly `n` bytes or fail with what was read.
pub fn read_n(s: &mut impl Read, n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    s.read_exact(&mut buf).expect("read from server under test");
    buf
}

/// Read until the server closes (EOF), with the client's timeout.
pub fn read_to_eof(s: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    s.read_to_end(&mut out)?;
    Ok(out)
}

/// Write all of `data`.
pub fn send(s: &mut impl Write, data: &[u8]) {
    s.write_all(data).expect("write to server under test");
}

/// A scheduler-based backstop that stops the context after the scenario
/// limit even if the waker (which the thread watchdog relies on) is broken.
pub fn guard_timer(ctx: &mut Context) {
    ctx.with_cx(|cx| {
        cx.schedule(SCENARIO_LIMIT, |cx| {
            eprintln!("guard timer: scenario exceeded {SCENARIO_LIMIT:?}, stopping context");
            cx.stop();
        });
    });
}

/// Whether `python3` can import `module` (a peer library such as
/// `websockets` or `requests`). Absent, a test using it is skipped with a
/// printed reason, unless `LWS_REQUIRE_PEERS` is set (CI sets it after
/// installing them): then a missing peer fails the test.
pub fn python_has(module: &str) -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    available(
        ok,
        &format!("python3 module {module} (pip install {module})"),
    )
}

/// Whether a socket can bind `::1` (IPv6 loopback). Without it a test
/// using it is skipped with a printed reason, unless `LWS_REQUIRE_PEERS`
/// is set: then it fails.
pub fn ipv6_loopback() -> bool {
    let ok = std::net::TcpListener::bind((std::net::Ipv6Addr::LOCALHOST, 0)).is_ok();
    available(ok, "IPv6 loopback (::1)")
}

/// Whether the peer program `bin` is installed (on `PATH` or in
/// `/usr/sbin`). Absent, a test using it is skipped with a printed reason,
/// unless `LWS_REQUIRE_PEERS` is set (CI sets it after installing the
/// peers): then a missing peer fails the test.
pub fn installed(bin: &str) -> bool {
    let ok = std::process::Command::new("sh")
        .args([
            "-c",
            &format!("command -v '{bin}' || test -x '/usr/sbin/{bin}'"),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    available(ok, &format!("peer program {bin}"))
}

/// `ok`, or a missing peer: a skip with a printed reason, or a failure
/// when `LWS_REQUIRE_PEERS` is set.
fn available(ok: bool, what: &str) -> bool {
    if !ok {
        assert!(
            std::env::var_os("LWS_REQUIRE_PEERS").is_none(),
            "{what} is missing and LWS_REQUIRE_PEERS is set"
        );
        println!("skipped: {what} is missing");
    }
    ok
}
