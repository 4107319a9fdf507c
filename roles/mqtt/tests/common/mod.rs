//! Test helpers: a scripted MQTT handler that records what it saw, a
//! context runner with a watchdog, and a mosquitto broker on loopback.
#![allow(dead_code)]

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lws_core::{Context, ContextBuilder, RunLoop, VhostBuilder};
use lws_role_mqtt::{MqttCx, MqttEvent, MqttHandler, MqttOptions, MqttProtocol};

pub type Log = Arc<Mutex<Vec<String>>>;
type Step = Box<dyn FnMut(&mut MqttCx<'_, '_>, &MqttEvent<'_>)>;

/// Records every event as a line, runs `step`, stops the context on close.
pub struct Script {
    pub log: Log,
    step: Step,
}

impl Script {
    /// A handler that only records.
    pub fn silent() -> Script {
        Script {
            log: Log::default(),
            step: Box::new(|_, _| {}),
        }
    }
}

pub fn describe(ev: &MqttEvent<'_>) -> String {
    match ev {
        MqttEvent::Connected { session_present } => format!("connected sp={session_present}"),
        MqttEvent::Refused(c) => format!("refused {c:?}"),
        MqttEvent::Message {
            topic,
            payload,
            qos,
            retain,
        } => format!(
            "message {topic} {} {qos:?} retain={retain}",
            String::from_utf8_lossy(payload)
        ),
        MqttEvent::Subscribed { granted, .. } => format!("subscribed {granted:?}"),
        MqttEvent::Unsubscribed { .. } => "unsubscribed".into(),
        MqttEvent::Published { .. } => "published".into(),
        MqttEvent::ConnectError(e) => format!("connect error {:?}", e.kind()),
        MqttEvent::Closed(r) => format!("closed {r}"),
        _ => "other".into(),
    }
}

impl MqttHandler for Script {
    type Session = ();

    fn on_event(&mut self, cx: &mut MqttCx<'_, '_>, _: &mut (), ev: MqttEvent<'_>) {
        if let Ok(mut l) = self.log.lock() {
            l.push(describe(&ev));
        }
        (self.step)(cx, &ev);
        if matches!(ev, MqttEvent::Closed(_) | MqttEvent::ConnectError(_)) {
            cx.conn().cx().stop();
        }
    }
}

/// Run one client connection to `url` with `opts` and the scripted steps;
/// returns the event log. Stops by itself after `limit`.
pub fn run_client(
    url: &str,
    opts: MqttOptions,
    limit: Duration,
    step: impl FnMut(&mut MqttCx<'_, '_>, &MqttEvent<'_>) + 'static,
) -> Vec<String> {
    run_client_with(url, opts, limit, |b| b, step)
}

/// [`run_client`] with the context builder adjusted first (TLS, ...).
pub fn run_client_with(
    url: &str,
    opts: MqttOptions,
    limit: Duration,
    configure: impl FnOnce(ContextBuilder) -> ContextBuilder,
    step: impl FnMut(&mut MqttCx<'_, '_>, &MqttEvent<'_>) + 'static,
) -> Vec<String> {
    let log = Log::default();
    let script = Script {
        log: log.clone(),
        step: Box::new(step),
    };
    let mut ctx = configure(Context::builder())
        .vhost(VhostBuilder::new("default").protocol("mqtt", MqttProtocol::new(script)))
        .build()
        .expect("context");
    lws_role_mqtt::connect(&mut ctx, url, "mqtt", opts).expect("connect");
    let remote = ctx.remote();
    let dog = std::thread::spawn(move || {
        std::thread::sleep(limit);
        remote.stop();
    });
    lws_loop_poll::PollLoop::new()
        .expect("loop")
        .run(&mut ctx)
        .expect("run");
    drop(dog);
    log.lock().expect("log").clone()
}

/// A mosquitto broker on 127.0.0.1 (a free port), killed on drop.
pub struct Broker {
    child: Child,
    pub port: u16,
    _dir: TempDir,
}

impl Broker {
    /// A broker, or `None` (the test is skipped, see
    /// `lws_conformance::peer::installed`) when mosquitto is not installed.
    pub fn start(extra_config: &str) -> Option<Broker> {
        if !lws_conformance::peer::installed("mosquitto") {
            return None;
        }
        let bin = ["mosquitto", "/usr/sbin/mosquitto"]
            .into_iter()
            .find(|b| Command::new(b).arg("-h").output().is_ok())
            .unwrap_or("mosquitto");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let dir = TempDir::new();
        let conf = dir.0.join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!("listener {port} 127.0.0.1\npersistence false\n{extra_config}\n"),
        )
        .expect("write config");
        let child = Command::new(bin)
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mosquitto");
        let until = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).is_err() {
            assert!(Instant::now() < until, "mosquitto did not start listening");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Broker {
            child,
            port,
            _dir: dir,
        })
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A scratch directory removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let d = std::env::temp_dir().join(format!("lws-mqtt-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&d).expect("temp dir");
        TempDir(d)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Read one packet: (first byte, body); None at EOF or after `wait`.
pub fn read_packet(s: &mut TcpStream, wait: Duration) -> Option<(u8, Vec<u8>)> {
    s.set_read_timeout(Some(wait)).ok()?;
    let mut first = [0u8; 1];
    s.read_exact(&mut first).ok()?;
    let (mut len, mut shift) = (0usize, 0);
    loop {
        let mut b = [0u8; 1];
        s.read_exact(&mut b).ok()?;
        len |= usize::from(b[0] & 0x7F) << shift;
        shift += 7;
        if b[0] & 0x80 == 0 {
            break;
        }
    }
    let mut body = vec![0; len];
    s.read_exact(&mut body).ok()?;
    Some((first[0], body))
}
