//! MQTT clients with a reconnect policy (`MqttOptions::reconnect`).
//!
//! - On a virtual clock (`ManualClock`), real sockets: a port that refuses
//!   every connect, and a broker that answers every CONNECT with "server
//!   unavailable". The reconnects happen exactly at the policy's delays,
//!   concealed failures are only `Reconnecting` events (no `ConnectError`,
//!   no `Refused`), the handler's session moves from connection to
//!   connection, and the failure after the conceal count is reported as
//!   usual, then `GaveUp`.
//! - In real time: the broker is down, then comes up (the client
//!   reconnects), hangs up (the client reconnects, its delay table started
//!   over), and a DISCONNECT from the handler is final.

use std::io::Write;
use std::net::{Ipv4Addr, TcpListener};
use std::thread;
use std::time::{Duration, Instant};

use lws_core::{Context, ManualClock, RetryPolicy, RunLoop, VhostBuilder};
use lws_loop_poll::PollLoop;
use lws_role_mqtt::{MqttCx, MqttEvent, MqttHandler, MqttOptions, MqttProtocol};

mod common;
use common::read_packet;

/// A loopback port nobody listens on (bound, then released).
fn closed_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// A broker that answers `n` CONNECTs with CONNACK `code`, then hangs up
/// each connection.
fn connack_broker(n: usize, code: u8) -> (u16, thread::JoinHandle<()>) {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let port = l.local_addr().expect("addr").port();
    let t = thread::spawn(move || {
        for _ in 0..n {
            let Ok((mut s, _)) = l.accept() else { return };
            let (first, _) = read_packet(&mut s, Duration::from_secs(20)).expect("CONNECT");
            assert_eq!(first, 0x10);
            s.write_all(&[0x20, 2, 0, code]).expect("CONNACK");
        }
    });
    (port, t)
}

/// Logs each event with the virtual time it happened at.
struct Timed {
    clock: ManualClock,
    t0: Instant,
    log: Vec<(Duration, String)>,
}

impl MqttHandler for Timed {
    /// Events this client has seen, over all its connections.
    type Session = u32;

    fn on_event(&mut self, cx: &mut MqttCx<'_, '_>, seen: &mut u32, ev: MqttEvent<'_>) {
        *seen += 1;
        let what = match ev {
            MqttEvent::Reconnecting { after, failures } => {
                format!("reconnecting in {after:?} after {failures}")
            }
            MqttEvent::ConnectError(e) => format!("connect error {:?}", e.kind()),
            MqttEvent::Refused(code) => format!("refused {code:?}"),
            MqttEvent::Closed(r) => format!("closed {r}"),
            MqttEvent::GaveUp { failures } => {
                cx.conn().cx().stop();
                format!("gave up after {failures}")
            }
            other => format!("{other:?}"),
        };
        self.log
            .push((self.clock.now() - self.t0, format!("{what}, event {seen}")));
    }
}

/// Connect to 127.0.0.1:`port` with `policy` on a virtual clock: real
/// readiness, and after each event the clock jumps to the next timer.
fn on_virtual_clock(port: u16, policy: RetryPolicy) -> Vec<(Duration, String)> {
    let clock = ManualClock::new();
    let h = Timed {
        clock: clock.clone(),
        t0: clock.now(),
        log: Vec::new(),
    };
    let mut ctx = Context::builder()
        .clock(clock.clone())
        .vhost(VhostBuilder::new("default").protocol("mqtt", MqttProtocol::new(h)))
        .build()
        .expect("context");
    let opts = MqttOptions::new("retry").reconnect(policy);
    let url = format!("mqtt://127.0.0.1:{port}");
    lws_role_mqtt::connect(&mut ctx, &url, "mqtt", opts).expect("connect");
    let mut lws = PollLoop::new().expect("loop");
    let guard = Instant::now() + Duration::from_secs(20);
    let mut seen = 0;
    while !ctx.is_stopped() {
        assert!(Instant::now() < guard, "stuck: {:?}", log(&mut ctx));
        lws.turn(&mut ctx, Some(Duration::from_millis(100)))
            .expect("turn");
        let n = log(&mut ctx).len();
        if n == seen || ctx.is_stopping() {
            continue;
        }
        seen = n;
        if let Some(due) = ctx.next_deadline() {
            clock.advance_to(due);
            ctx.service_timers(clock.now());
        }
    }
    log(&mut ctx)
}

fn log(ctx: &mut Context) -> Vec<(Duration, String)> {
    ctx.protocol_mut::<MqttProtocol<Timed>>("default", "mqtt")
        .expect("protocol")
        .handler()
        .log
        .clone()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn refused_connects_follow_the_policy_on_a_virtual_clock() {
    let policy = RetryPolicy::builder()
        .delays([500, 1500])
        .conceal(2)
        .build()
        .expect("policy");
    let got = on_virtual_clock(closed_port(), policy);
    let want = [
        (ms(0), "reconnecting in 500ms after 1, event 1"),
        (ms(500), "reconnecting in 1.5s after 2, event 2"),
        (ms(2000), "connect error ConnectionRefused, event 3"),
        (ms(2000), "gave up after 3, event 4"),
    ]
    .map(|(t, s)| (t, s.to_owned()));
    assert_eq!(got, want);
}

#[test]
fn connack_refusals_are_concealed_then_reported_on_a_virtual_clock() {
    let (port, broker) = connack_broker(3, 3);
    let policy = RetryPolicy::builder()
        .delays([100, 200, 300])
        .conceal(2)
        .build()
        .expect("policy");
    let got = on_virtual_clock(port, policy);
    broker.join().expect("broker");
    let want = [
        (ms(0), "reconnecting in 100ms after 1, event 1"),
        (ms(100), "reconnecting in 200ms after 2, event 2"),
        (ms(300), "refused ServerUnavailable, event 3"),
        (
            ms(300),
            "closed protocol error: CONNACK: server unavailable, event 4",
        ),
        (ms(300), "gave up after 3, event 5"),
    ]
    .map(|(t, s)| (t, s.to_owned()));
    assert_eq!(got, want);
}

/// Brings the broker up at the first `Reconnecting`; it accepts two
/// clients: the first it hangs up on after CONNACK, the second it serves
/// until DISCONNECT.
struct DownThenUp {
    port: u16,
    broker: Option<thread::JoinHandle<Vec<u8>>>,
    log: Vec<String>,
}

fn broker(l: TcpListener) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut firsts = Vec::new();
        for hang_up in [true, false] {
            let Ok((mut s, _)) = l.accept() else {
                return firsts;
            };
            let (first, _) = read_packet(&mut s, Duration::from_secs(20)).expect("CONNECT");
            firsts.push(first);
            s.write_all(&[0x20, 2, 0, 0]).expect("CONNACK");
            if !hang_up {
                let (first, _) = read_packet(&mut s, Duration::from_secs(20)).expect("DISCONNECT");
                firsts.push(first);
            }
        }
        firsts
    })
}

impl MqttHandler for DownThenUp {
    /// Connections accepted by the broker, over all of this client's.
    type Session = u32;

    fn on_event(&mut self, cx: &mut MqttCx<'_, '_>, connected: &mut u32, ev: MqttEvent<'_>) {
        match ev {
            MqttEvent::Reconnecting { after, failures } => {
                self.log
                    .push(format!("reconnecting in {after:?} after {failures}"));
                if self.broker.is_none() {
                    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, self.port)).expect("bind");
                    self.broker = Some(broker(l));
                }
            }
            MqttEvent::Connected { .. } => {
                *connected += 1;
                self.log.push(format!("connected {connected}"));
                if *connected == 2 {
                    cx.disconnect();
                }
            }
            MqttEvent::Closed(r) => {
                self.log.push(format!("closed: {r}"));
                if *connected == 2 {
                    cx.conn().cx().stop();
                }
            }
            other => self.log.push(format!("{other:?}")),
        }
    }
}

#[test]
fn broker_down_then_up_then_hanging_up() {
    let port = closed_port();
    let h = DownThenUp {
        port,
        broker: None,
        log: Vec::new(),
    };
    let mut ctx = Context::builder()
        .vhost(VhostBuilder::new("default").protocol("mqtt", MqttProtocol::new(h)))
        .build()
        .expect("context");
    let remote = ctx.remote();
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let dog = thread::spawn(move || {
        if finished.recv_timeout(Duration::from_secs(30)).is_err() {
            remote.stop();
        }
    });
    let policy = RetryPolicy::builder()
        .delays([20, 40])
        .build()
        .expect("policy");
    let opts = MqttOptions::new("down-up").reconnect(policy);
    let url = format!("mqtt://127.0.0.1:{port}");
    lws_role_mqtt::connect(&mut ctx, &url, "mqtt", opts).expect("connect");
    PollLoop::new().expect("loop").run(&mut ctx).expect("run");
    let _ = done.send(());
    dog.join().expect("watchdog");
    let h = ctx
        .protocol_mut::<MqttProtocol<DownThenUp>>("default", "mqtt")
        .expect("protocol")
        .handler_mut();
    let firsts = h.broker.take().map(|b| b.join().expect("broker"));
    assert_eq!(
        h.log,
        [
            "reconnecting in 20ms after 1",
            "connected 1",
            "closed: peer closed",
            "reconnecting in 20ms after 1",
            "connected 2",
            "closed: closed locally",
        ]
    );
    assert_eq!(
        firsts,
        Some(vec![0x10, 0x10, 0xE0]),
        "CONNECT, CONNECT, DISCONNECT"
    );
}
