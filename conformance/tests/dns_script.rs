//! The context's resolver against a scripted DNS server
//! (`scripts/dns_server.py`, Python standard library only) for what
//! dnsmasq will not do: answers with wrong ids, for other questions, of the
//! wrong type, garbage and malformed messages (all ignored), truncated
//! answers (asked again over TCP), slow answers, silence (a DNS timeout),
//! NXDOMAIN and SERVFAIL, and the Happy Eyeballs Resolution Delay (only A
//! answered) and early start (only AAAA answered). Everything goes through
//! the context: connects by name (`Connect::host`) and explicit lookups
//! from outside callbacks (`Context::lookup`), on the native loop.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use lws_conformance::peer::{self, Watchdog};
use lws_core::{
    ConnCx, Connect, Context, ContextEvent, Cx, DnsConfig, DnsError, Lookup, RunLoop, Token,
    VhostBuilder, dns_error,
};
use lws_loop_poll::PollLoop;
use lws_role_raw::{OpenKind, RawEvent, RawHandler, RawProtocol};

/// The scripted server, stopped by PID (and by its stdin closing).
struct Script {
    child: Child,
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

impl Script {
    /// Start it, or `None` (skipped, unless `LWS_REQUIRE_PEERS`) without
    /// python3.
    fn start() -> Option<Script> {
        if !peer::installed("python3") {
            return None;
        }
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/dns_server.py");
        let mut child = Command::new("python3")
            .arg(path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start dns_server.py");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut first = String::new();
        out.read_line(&mut first).expect("PORT line");
        let port = first
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .expect("PORT <n>");
        let log = Arc::new(Mutex::new(Vec::new()));
        let l = log.clone();
        thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                l.lock().expect("log").push(line);
            }
        });
        Some(Script { child, port, log })
    }

    /// Questions asked so far, as "udp name A".
    fn asked(&self) -> Vec<String> {
        let log = self.log.lock().expect("log");
        log.iter()
            .filter_map(|l| l.strip_prefix("Q ").map(str::to_owned))
            .collect()
    }

    /// resolv.conf naming it (with `options`) and an empty hosts file.
    fn config(&self, options: &str, tag: &str) -> (DnsConfig, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("lws-dns-script-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let resolv = dir.join("resolv.conf");
        let body = format!("nameserver 127.0.0.1:{}\noptions {options}\n", self.port);
        std::fs::write(&resolv, body).expect("resolv.conf");
        std::fs::write(dir.join("hosts"), "").expect("hosts");
        (DnsConfig::with_paths(resolv, dir.join("hosts")), dir)
    }
}

impl Drop for Script {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What happened to each connection and lookup.
#[derive(Default)]
struct Client {
    expect: usize,
    /// Connection token -> peer address, once it exchanged hello/world.
    served: HashMap<Token, SocketAddr>,
    errors: HashMap<Token, (io::ErrorKind, Option<DnsError>)>,
    lookups: Vec<Lookup>,
}

impl Client {
    fn outcome(&mut self, cx: &mut Cx<'_>) {
        if self.served.len() + self.errors.len() + self.lookups.len() >= self.expect {
            cx.stop();
        }
    }
}

/// One connection: its peer and what it read.
#[derive(Default)]
struct Conn {
    peer: Option<SocketAddr>,
    got: Vec<u8>,
}

impl RawHandler for Client {
    type Session = Conn;

    fn on_event(&mut self, cx: &mut ConnCx<'_>, conn: &mut Conn, ev: RawEvent<'_>) {
        match ev {
            RawEvent::Opened(OpenKind::Connected) => {
                conn.peer = cx.peer_addr();
                let _ = cx.write(b"hello");
            }
            RawEvent::Rx(d) => conn.got.extend_from_slice(d),
            RawEvent::Closed(_) => {
                if let (b"world", Some(a)) = (conn.got.as_slice(), conn.peer) {
                    self.served.insert(cx.token(), a);
                }
                self.outcome(cx.cx());
            }
            RawEvent::ConnectError(e) => {
                self.errors
                    .insert(cx.token(), (e.kind(), dns_error(e).cloned()));
                self.outcome(cx.cx());
            }
            _ => {}
        }
    }

    fn on_context_event(&mut self, cx: &mut Cx<'_>, event: &ContextEvent) {
        if let ContextEvent::Lookup(l) = event {
            self.lookups.push(l.clone());
            self.outcome(cx);
        }
    }
}

/// A peer on `listener` answering "hello" with "world" then closing, for
/// each of `n` connections.
fn hello_peer(listener: TcpListener, n: usize) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        for _ in 0..n {
            let Ok((mut s, _)) = listener.accept() else {
                return;
            };
            let _ = s.set_read_timeout(Some(Duration::from_secs(20)));
            let mut buf = [0u8; 5];
            if s.read_exact(&mut buf).is_ok() {
                let _ = s.write_all(b"world");
            }
        }
    })
}

/// Run `start` on a fresh client context until `expect` outcomes.
fn run(config: DnsConfig, expect: usize, start: impl FnOnce(&mut Context)) -> Client {
    let h = Client {
        expect,
        ..Default::default()
    };
    let mut ctx = Context::builder()
        .vhost(VhostBuilder::new("default").protocol("c", RawProtocol::new(h)))
        .dns(config)
        .build()
        .expect("context");
    let _dog = Watchdog::arm(ctx.remote(), Duration::from_secs(20));
    start(&mut ctx);
    PollLoop::new().expect("loop").run(&mut ctx).expect("run");
    let p = ctx.protocol_mut::<RawProtocol<Client>>("default", "c");
    std::mem::take(p.expect("protocol c").handler_mut())
}

fn lookup<'a>(c: &'a Client, name: &str) -> &'a Result<Vec<IpAddr>, DnsError> {
    let found = c.lookups.iter().find(|l| l.name == name);
    &found
        .unwrap_or_else(|| panic!("no lookup result for {name}"))
        .result
}

const LOCAL4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Noise before the answer is ignored; truncation goes to TCP; a slow
/// answer within the timeout is taken; NXDOMAIN and SERVFAIL are typed;
/// with only A answered the connect starts after the Resolution Delay,
/// with only AAAA at once: both long before the resolver's 30 s timeout.
#[test]
fn scripted_answers_through_the_context() {
    let Some(dns) = Script::start() else { return };
    let ipv6 = peer::ipv6_loopback();
    let (config, dir) = dns.config("timeout:30 attempts:1", "answers");
    let l4 = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("v4 peer");
    let p4 = l4.local_addr().expect("addr").port();
    let peer4 = hello_peer(l4, 2);
    let l6 = ipv6.then(|| TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).expect("v6 peer"));
    let p6 = l6
        .as_ref()
        .map_or(0, |l| l.local_addr().expect("addr").port());
    let peer6 = l6.map(|l| hello_peer(l, 1));
    let mut tokens = HashMap::new();
    let c = run(config, 7 + usize::from(ipv6), |ctx| {
        for (name, port) in [("noisy", p4), ("afirst", p4), ("nx", 9)] {
            let to = Connect::host(format!("{name}.lws.test"), port).protocol("c");
            tokens.insert(name, ctx.connect(to).expect("connect"));
        }
        if ipv6 {
            let to = Connect::host("aaaafirst.lws.test", p6).protocol("c");
            tokens.insert("aaaafirst", ctx.connect(to).expect("connect"));
        }
        for (i, name) in ["noisy", "tc", "slow", "servfail"].iter().enumerate() {
            ctx.lookup(None, "c", format!("{name}.lws.test"), i as u64)
                .expect("lookup from outside callbacks");
        }
    });
    peer4.join().expect("v4 peer");
    if let Some(p) = peer6 {
        p.join().expect("v6 peer");
    }
    let _ = std::fs::remove_dir_all(&dir);
    let served = |name: &str| c.served.get(&tokens[name]).map(|a| a.ip());
    assert_eq!(served("noisy"), Some(LOCAL4), "errors: {:?}", c.errors);
    assert_eq!(
        served("afirst"),
        Some(LOCAL4),
        "A alone, after the Resolution Delay"
    );
    if ipv6 {
        assert_eq!(served("aaaafirst"), Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
    }
    let nx = (io::ErrorKind::NotFound, Some(DnsError::NxDomain));
    assert_eq!(c.errors.get(&tokens["nx"]), Some(&nx));
    assert_eq!(
        lookup(&c, "noisy.lws.test"),
        &Ok(vec![LOCAL4]),
        "decoys ignored"
    );
    assert_eq!(lookup(&c, "tc.lws.test"), &Ok(vec![LOCAL4]));
    assert_eq!(lookup(&c, "slow.lws.test"), &Ok(vec![LOCAL4]));
    assert_eq!(lookup(&c, "servfail.lws.test"), &Err(DnsError::ServFail));
    let asked = dns.asked();
    assert!(
        asked.contains(&"tcp tc.lws.test A".into()),
        "asked: {asked:?}"
    );
    assert!(
        asked.contains(&"udp noisy.lws.test A".into()),
        "asked: {asked:?}"
    );
}

/// Only garbage, only answers to other questions, or silence: the lookup
/// ends in a DNS timeout (the noise is not taken for an answer); malformed
/// messages with the query's id end as `Malformed`; a connect to a name
/// nobody answers ends with a typed timeout connect error.
#[test]
fn scripted_failures_through_the_context() {
    let Some(dns) = Script::start() else { return };
    let (config, dir) = dns.config("timeout:1 attempts:1", "failures");
    let mut silent = None;
    let c = run(config, 4, |ctx| {
        for (i, name) in ["garbage", "mismatch", "garbled"].iter().enumerate() {
            ctx.lookup(None, "c", format!("{name}.lws.test"), i as u64)
                .expect("lookup");
        }
        let to = Connect::host("silent.lws.test", 9).protocol("c");
        silent = Some(ctx.connect(to).expect("connect"));
    });
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(lookup(&c, "garbage.lws.test"), &Err(DnsError::Timeout));
    assert_eq!(lookup(&c, "mismatch.lws.test"), &Err(DnsError::Timeout));
    assert!(
        matches!(lookup(&c, "garbled.lws.test"), Err(DnsError::Malformed(_))),
        "{:?}",
        lookup(&c, "garbled.lws.test")
    );
    let timeout = (io::ErrorKind::TimedOut, Some(DnsError::Timeout));
    assert_eq!(silent.and_then(|t| c.errors.get(&t)), Some(&timeout));
    assert!(c.served.is_empty());
    let asked = dns.asked();
    assert!(
        asked.contains(&"udp silent.lws.test A".into()),
        "asked: {asked:?}"
    );
}
