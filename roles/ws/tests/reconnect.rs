//! WebSocket clients with a reconnect policy (`ClientOptions::reconnect`).
//!
//! - On a virtual clock (`ManualClock`): a server that refuses every
//!   connect; the reconnects happen exactly at the policy's delays, the
//!   concealed failures are only `Reconnecting` events, the session moves
//!   from connection to connection, and the failure after the conceal
//!   count is reported, then `GaveUp`.
//! - In real time: the server is down, then comes up (the client
//!   reconnects), drops the connection (the client reconnects, its delay
//!   table started over), and a close the handler asks for is final.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use lws_core::{Context, ManualClock, RetryPolicy, RunLoop, VhostBuilder};
use lws_loop_poll::PollLoop;
use lws_role_ws::client::{self, ClientOptions};
use lws_role_ws::proto::handshake::accept_key;
use lws_role_ws::{WsCx, WsEvent, WsHandler, WsProtocol};

/// A loopback port nobody listens on (bound, then released).
fn closed_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// Logs each event with the virtual time it happened at.
struct Timed {
    clock: ManualClock,
    t0: Instant,
    log: Vec<(Duration, String)>,
}

impl WsHandler for Timed {
    /// Events this client has seen, over all its connections.
    type Session = u32;

    fn on_event(&mut self, cx: &mut WsCx<'_, '_>, seen: &mut u32, ev: WsEvent<'_>) {
        *seen += 1;
        let what = match ev {
            WsEvent::Reconnecting { after, failures } => {
                format!("reconnecting in {after:?} after {failures}, event {seen}")
            }
            WsEvent::ConnectError(_) => format!("connect error, event {seen}"),
            WsEvent::GaveUp { failures } => {
                cx.conn().cx().stop();
                format!("gave up after {failures}, event {seen}")
            }
            other => format!("{other:?}"),
        };
        self.log.push((self.clock.now() - self.t0, what));
    }
}

#[test]
fn reconnects_at_the_policy_delays_on_a_virtual_clock() {
    let clock = ManualClock::new();
    let h = Timed {
        clock: clock.clone(),
        t0: clock.now(),
        log: Vec::new(),
    };
    let mut ctx = Context::builder()
        .clock(clock.clone())
        .vhost(VhostBuilder::new("c").protocol("c", WsProtocol::new(h)))
        .build()
        .expect("ctx");
    let policy = RetryPolicy::builder()
        .delays([1000, 2000, 5000])
        .conceal(3)
        .build()
        .expect("policy");
    let url = format!("ws://127.0.0.1:{}/", closed_port());
    client::connect(
        &mut ctx,
        &url,
        "c",
        ClientOptions::default().reconnect(policy),
    )
    .expect("connect");
    let mut lws = PollLoop::new().expect("loop");
    let guard = Instant::now() + Duration::from_secs(20);
    let mut seen = 0;
    while !ctx.is_stopped() {
        assert!(Instant::now() < guard, "stuck: {:?}", log(&mut ctx));
        // Real readiness (the refused connect), virtual time: wait for
        // the next event, then jump to the reconnect timer it armed.
        lws.turn(&mut ctx, Some(Duration::from_millis(100)))
            .expect("turn");
        let events = log(&mut ctx);
        if events.len() == seen || ctx.is_stopping() {
            continue;
        }
        seen = events.len();
        let Some(due) = ctx.next_deadline() else {
            continue;
        };
        clock.advance_to(due);
        ctx.service_timers(clock.now());
    }
    let s = Duration::from_secs;
    let want = vec![
        (s(0), "reconnecting in 1s after 1, event 1".to_owned()),
        (s(1), "reconnecting in 2s after 2, event 2".into()),
        (s(3), "reconnecting in 5s after 3, event 3".into()),
        (s(8), "connect error, event 4".into()),
        (s(8), "gave up after 4, event 5".into()),
    ];
    assert_eq!(log(&mut ctx), want);
}

fn log(ctx: &mut Context) -> Vec<(Duration, String)> {
    ctx.protocol_mut::<WsProtocol<Timed>>("c", "c")
        .expect("protocol")
        .handler()
        .log
        .clone()
}

/// The server side, on its own thread: for each connection, the
/// handshake, then `drop_after_message` (read one frame, hang up) or
/// answer the client's close.
fn server(listener: TcpListener) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        for drop_after_message in [true, false] {
            let Ok((mut s, _)) = listener.accept() else {
                return;
            };
            s.set_read_timeout(Some(Duration::from_secs(20)))
                .expect("timeout");
            handshake(&mut s);
            let mut frame = [0u8; 8]; // "hi" or close(1000), masked
            s.read_exact(&mut frame).expect("a frame");
            if !drop_after_message {
                assert_eq!(frame[0], 0x88, "a close frame");
                s.write_all(&[0x88, 2, 0x03, 0xE8]).expect("close");
            }
        }
    })
}

fn handshake(s: &mut TcpStream) {
    let mut req = Vec::new();
    let mut b = [0u8; 1];
    while !req.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut b).expect("request");
        req.push(b[0]);
    }
    let req = String::from_utf8_lossy(&req);
    let key = req
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("sec-websocket-key"))
        .map(|(_, v)| v.trim())
        .expect("key");
    let resp = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        accept_key(key)
    );
    s.write_all(resp.as_bytes()).expect("101");
}

/// Brings the server up at the first `Reconnecting`, sends one message
/// on the first connection (the server then hangs up), closes the second.
struct DownThenUp {
    port: u16,
    server: Option<thread::JoinHandle<()>>,
    log: Vec<String>,
    done: Option<mpsc::Sender<()>>,
}

impl WsHandler for DownThenUp {
    /// Connections established by this client, over all its connections.
    type Session = u32;

    fn on_event(&mut self, cx: &mut WsCx<'_, '_>, opened: &mut u32, ev: WsEvent<'_>) {
        match ev {
            WsEvent::Reconnecting { after, failures } => {
                self.log
                    .push(format!("reconnecting in {after:?} after {failures}"));
                if self.server.is_none() {
                    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, self.port)).expect("bind");
                    self.server = Some(server(l));
                }
            }
            WsEvent::Established => {
                *opened += 1;
                self.log.push(format!("established {opened}"));
                match *opened {
                    1 => cx.send_text("hi").expect("send"),
                    _ => cx.close(1000, "done"),
                }
            }
            WsEvent::Closed { code, .. } => {
                self.log.push(format!("closed {code}"));
                if *opened == 2 {
                    cx.conn().cx().stop();
                    if let Some(d) = self.done.take() {
                        let _ = d.send(());
                    }
                }
            }
            other => self.log.push(format!("{other:?}")),
        }
    }
}

#[test]
fn server_down_then_up_then_dropping_the_connection() {
    let port = closed_port();
    let h = DownThenUp {
        port,
        server: None,
        log: Vec::new(),
        done: None,
    };
    let mut ctx = Context::builder()
        .vhost(VhostBuilder::new("c").protocol("c", WsProtocol::new(h)))
        .build()
        .expect("ctx");
    let (done, finished) = mpsc::channel::<()>();
    let remote = ctx.remote();
    let dog = thread::spawn(move || {
        if finished.recv_timeout(Duration::from_secs(30)).is_err() {
            remote.stop();
        }
    });
    ctx.protocol_mut::<WsProtocol<DownThenUp>>("c", "c")
        .expect("protocol")
        .handler_mut()
        .done = Some(done);
    let policy = RetryPolicy::builder()
        .delays([20, 40])
        .build()
        .expect("policy");
    let url = format!("ws://127.0.0.1:{port}/");
    client::connect(
        &mut ctx,
        &url,
        "c",
        ClientOptions::default().reconnect(policy),
    )
    .expect("connect");
    PollLoop::new().expect("loop").run(&mut ctx).expect("run");
    dog.join().expect("watchdog");
    let h = ctx
        .protocol_mut::<WsProtocol<DownThenUp>>("c", "c")
        .expect("protocol")
        .handler_mut();
    if let Some(s) = h.server.take() {
        s.join().expect("server");
    }
    assert_eq!(
        h.log,
        [
            "reconnecting in 20ms after 1",
            "established 1",
            "closed 1006",
            "reconnecting in 20ms after 1",
            "established 2",
            "closed 1000",
        ]
    );
}
