//! Asynchronous DNS on the context's own loop: clients connect by host
//! name through a resolver on 127.0.0.1 (a scripted UDP responder thread
//! written with std sockets), `/etc/hosts`-style entries and IP literals
//! connect without a query, NXDOMAIN and a silent server end the connect
//! with typed DNS errors while other connections keep being served, and an
//! explicit lookup delivers its result event to the protocol that asked.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use lws_core::{
    ConnCx, Connect, Context, ContextEvent, Cx, DnsConfig, DnsError, Endpoint, Lookup,
    VhostBuilder, dns_error,
};
use lws_role_raw::{OpenKind, RawEvent, RawHandler, RawProtocol};

use crate::Runner;
use crate::peer::{self, Echo, Watchdog};

/// The name the responder answers with 127.0.0.1 (A; AAAA has no data).
const NAME: &str = "svc.lws.test";
/// The name the hosts file lists.
const HOSTED: &str = "hosted.lws.test";
/// A hosts name with two addresses; only the second one is served.
const MULTI: &str = "multi.lws.test";
/// A name the responder says does not exist.
const GONE: &str = "gone.lws.test";

/// How the responder behaves.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Script {
    /// A for [`NAME`], empty NOERROR for its other types, NXDOMAIN else.
    Answer,
    /// Reads queries and never answers.
    Silent,
    /// Over UDP only truncated (TC) empty answers; over TCP on the same
    /// port what `Answer` sends.
    Truncate,
}

/// A DNS server on an ephemeral loopback UDP port, on its own thread.
struct Responder {
    addr: SocketAddr,
    asked: Arc<Mutex<Vec<String>>>,
    seen: mpsc::Receiver<String>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
    tcp_thread: Option<thread::JoinHandle<()>>,
}

/// A UDP socket on an ephemeral loopback port and, if asked, a TCP
/// listener on the same port (a few ports are tried if one is taken).
fn bind_pair(tcp: bool) -> (UdpSocket, Option<TcpListener>) {
    for _ in 0..20 {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind responder");
        if !tcp {
            return (udp, None);
        }
        let port = udp.local_addr().expect("addr").port();
        if let Ok(l) = TcpListener::bind(("127.0.0.1", port)) {
            return (udp, Some(l));
        }
    }
    panic!("no port free for both UDP and TCP");
}

/// Answer DNS over TCP (length-prefixed) until `stop`.
fn serve_tcp(l: TcpListener, asked: &Mutex<Vec<String>>, stop: &AtomicBool) {
    l.set_nonblocking(true).expect("nonblocking");
    while !stop.load(Ordering::Relaxed) {
        let mut s = match l.accept() {
            Ok((s, _)) => s,
            Err(_) => {
                thread::sleep(Duration::from_millis(5));
                continue;
            }
        };
        let _ = s.set_nonblocking(false);
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let mut len = [0u8; 2];
        if s.read_exact(&mut len).is_err() {
            continue;
        }
        let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
        if s.read_exact(&mut msg).is_err() {
            continue;
        }
        let Some((name, qtype, qend)) = parse_query(&msg) else {
            continue;
        };
        asked.lock().expect("asked").push(format!("tcp:{name}"));
        let reply = answer(&msg[..qend], &name, qtype);
        let mut framed = (reply.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&reply);
        let _ = s.write_all(&framed);
    }
}

impl Responder {
    fn start(script: Script) -> Responder {
        let (sock, tcp) = bind_pair(script == Script::Truncate);
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        let addr = sock.local_addr().expect("addr");
        let asked = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, seen) = mpsc::channel();
        let (a, s) = (asked.clone(), stop.clone());
        let thread = thread::spawn(move || {
            let mut buf = [0u8; 1500];
            while !s.load(Ordering::Relaxed) {
                let Ok((n, from)) = sock.recv_from(&mut buf) else {
                    continue;
                };
                let Some((name, qtype, qend)) = parse_query(&buf[..n]) else {
                    continue;
                };
                a.lock().expect("asked").push(name.clone());
                let _ = tx.send(name.clone());
                match script {
                    Script::Silent => continue,
                    Script::Truncate => {
                        let mut r = buf[..qend].to_vec();
                        r[2] = 0x82 | (buf[2] & 0x01); // QR, TC, RD copied
                        r[3] = 0x80;
                        r[6..12].fill(0);
                        let _ = sock.send_to(&r, from);
                    }
                    Script::Answer => {
                        let _ = sock.send_to(&answer(&buf[..qend], &name, qtype), from);
                    }
                }
            }
        });
        let tcp_thread = tcp.map(|l| {
            let (a, s) = (asked.clone(), stop.clone());
            thread::spawn(move || serve_tcp(l, &a, &s))
        });
        Responder {
            addr,
            asked,
            seen,
            stop,
            thread: Some(thread),
            tcp_thread,
        }
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().expect("asked").clone()
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in [self.thread.take(), self.tcp_thread.take()]
            .into_iter()
            .flatten()
        {
            let _ = t.join();
        }
    }
}

/// The question's name (lower case), type and where the question ends.
fn parse_query(msg: &[u8]) -> Option<(String, u16, usize)> {
    if msg.len() < 12 || msg[2] & 0x80 != 0 || msg[4..6] != [0, 1] {
        return None;
    }
    let mut labels = Vec::new();
    let mut i = 12;
    loop {
        let len = *msg.get(i)? as usize;
        i += 1;
        if len == 0 {
            break;
        }
        if len > 63 {
            return None;
        }
        labels.push(String::from_utf8_lossy(msg.get(i..i + len)?).to_ascii_lowercase());
        i += len;
    }
    let qtype = u16::from_be_bytes([*msg.get(i)?, *msg.get(i + 1)?]);
    let end = i + 4;
    (msg.len() >= end).then(|| (labels.join("."), qtype, end))
}

/// The reply to `query` (header and question, as received).
fn answer(query: &[u8], name: &str, qtype: u16) -> Vec<u8> {
    let known = name == NAME;
    let with_a = known && qtype == 1;
    let mut r = query.to_vec();
    r[2] = 0x80 | (query[2] & 0x01); // QR, opcode 0, RD copied
    r[3] = 0x80 | if known { 0 } else { 3 }; // RA; NOERROR or NXDOMAIN
    r[6..12].copy_from_slice(&[0, u8::from(with_a), 0, 0, 0, 0]);
    if with_a {
        // Name pointer to the question, A, IN, TTL 60, 4 bytes.
        r.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1]);
    }
    r
}

/// resolv.conf naming the responder, and a hosts file, in a fresh directory.
fn dns_files(server: SocketAddr, timeout_s: u32, tag: &str) -> (DnsConfig, PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "lws-conf-dns-{tag}-{}-{:?}",
        std::process::id(),
        thread::current().id()
    ));
    std::fs::create_dir_all(&dir).expect("dir");
    let resolv = dir.join("resolv.conf");
    let hosts = dir.join("hosts");
    std::fs::write(
        &resolv,
        format!("nameserver {server}\noptions timeout:{timeout_s} attempts:1\n"),
    )
    .expect("resolv.conf");
    std::fs::write(
        &hosts,
        format!("127.0.0.1 {HOSTED}\n127.0.0.2 {MULTI}\n127.0.0.1 {MULTI}\n"),
    )
    .expect("hosts");
    (DnsConfig::with_paths(resolv, hosts), dir)
}

/// Says hello when connected; records replies, connect errors (with their
/// DNS cause) and lookup results; stops the context after `expect`
/// outcomes. The first connection to open asks for [`NAME`] explicitly.
#[derive(Default)]
struct DnsUser {
    expect: usize,
    connected: usize,
    replies: Vec<Vec<u8>>,
    errors: Vec<(io::ErrorKind, Option<DnsError>)>,
    lookups: Vec<Lookup>,
    failed: Option<Arc<AtomicBool>>,
    /// Stop at the first connect error.
    stop_on_error: bool,
}

impl DnsUser {
    fn outcome(&mut self, cx: &mut Cx<'_>) {
        if self.replies.len() + self.errors.len() + self.lookups.len() == self.expect {
            cx.stop();
        }
    }
}

impl RawHandler for DnsUser {
    type Session = Vec<u8>;

    fn on_event(&mut self, cx: &mut ConnCx<'_>, got: &mut Vec<u8>, ev: RawEvent<'_>) {
        match ev {
            RawEvent::Opened(OpenKind::Connected) => {
                self.connected += 1;
                if self.connected == 1 {
                    assert!(cx.cx().lookup(NAME, 7), "lookup from a protocol callback");
                }
                let _ = cx.write(b"hello");
            }
            RawEvent::Rx(d) => got.extend_from_slice(d),
            RawEvent::Closed(_) => {
                self.replies.push(std::mem::take(got));
                self.outcome(cx.cx());
            }
            RawEvent::ConnectError(e) => {
                self.errors.push((e.kind(), dns_error(e).cloned()));
                if let Some(f) = &self.failed {
                    f.store(true, Ordering::SeqCst);
                }
                if self.stop_on_error {
                    return cx.cx().stop();
                }
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

fn user(ctx: &mut Context) -> &mut DnsUser {
    ctx.protocol_mut::<RawProtocol<DnsUser>>("default", "c")
        .expect("protocol c")
        .handler_mut()
}

/// A peer that answers "hello" with "world" and closes, `n` times; it
/// gives up waiting for connections after the scenario limit.
fn hello_world_peer(n: usize) -> (SocketAddr, thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.set_nonblocking(true).expect("nonblocking");
    let addr = l.local_addr().expect("addr");
    let t = thread::spawn(move || {
        let give_up = std::time::Instant::now() + peer::SCENARIO_LIMIT;
        let mut served = 0;
        while served < n && std::time::Instant::now() < give_up {
            let mut s = match l.accept() {
                Ok((s, _)) => s,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    thread::sleep(Duration::from_millis(5));
                    continue;
                }
                Err(e) => panic!("accept: {e}"),
            };
            s.set_nonblocking(false).expect("blocking");
            let mut buf = [0u8; 5];
            s.read_exact(&mut buf).expect("hello");
            assert_eq!(&buf, b"hello");
            s.write_all(b"world").expect("reply");
            served += 1;
        }
    });
    (addr, t)
}

/// Connect by a name the responder knows, a hosts entry and a literal (all
/// three exchange data), and by an NXDOMAIN name (a typed connect error);
/// an explicit lookup of the first name reports its address.
pub fn resolve_then_connect(run: Runner<'_>) {
    let dns = Responder::start(Script::Answer);
    let (config, dir) = dns_files(dns.addr, 5, "ok");
    let (peer_addr, peer) = hello_world_peer(3);
    let h = DnsUser {
        expect: 5,
        ..Default::default()
    };
    let mut ctx = Context::builder()
        .vhost(VhostBuilder::new("default").protocol("c", RawProtocol::new(h)))
        .dns(config)
        .build()
        .expect("context");
    let _dog = Watchdog::arm(ctx.remote(), peer::SCENARIO_LIMIT);
    let port = peer_addr.port();
    for host in [NAME, HOSTED, "127.0.0.1", GONE] {
        ctx.connect(Connect::host(host, port).protocol("c"))
            .expect("connect returns at once");
    }
    let mut ctx = run(ctx);
    peer.join().expect("peer");
    let _ = std::fs::remove_dir_all(&dir);
    let asked = dns.asked();
    let h = user(&mut ctx);
    assert_eq!(h.connected, 3, "errors: {:?}", h.errors);
    assert_eq!(h.replies, vec![b"world".to_vec(); 3]);
    assert_eq!(
        h.errors,
        vec![(io::ErrorKind::NotFound, Some(DnsError::NxDomain))]
    );
    let localhost = IpAddr::V4(Ipv4Addr::LOCALHOST);
    assert_eq!(
        h.lookups,
        vec![Lookup {
            id: 7,
            name: NAME.into(),
            result: Ok(vec![localhost]),
        }]
    );
    assert!(asked.iter().any(|n| n == NAME), "asked: {asked:?}");
    assert!(asked.iter().any(|n| n == GONE), "asked: {asked:?}");
    assert!(
        !asked.iter().any(|n| n == HOSTED || n.starts_with("127")),
        "hosts entries and literals need no query: {asked:?}"
    );
}

/// A nameserver that never answers: the connect ends with a DNS timeout,
/// and a connection to the context's echo listener is served all along.
pub fn silent_resolver_times_out(run: Runner<'_>) {
    let dns = Responder::start(Script::Silent);
    let (config, dir) = dns_files(dns.addr, 2, "silent");
    let failed = Arc::new(AtomicBool::new(false));
    let h = DnsUser {
        expect: usize::MAX, // the echo peer stops the context
        failed: Some(failed.clone()),
        ..Default::default()
    };
    let vh = VhostBuilder::new("default")
        .listen(Endpoint::Tcp(SocketAddr::from(([127, 0, 0, 1], 0))))
        .protocol("echo", RawProtocol::new(Echo::default()))
        .protocol("c", RawProtocol::new(h));
    let mut ctx = Context::builder()
        .vhost(vh)
        .dns(config)
        .build()
        .expect("context");
    let echo_addr = match ctx.bound_endpoints("default").expect("vhost").first() {
        Some(Endpoint::Tcp(a)) => *a,
        other => panic!("unexpected bound endpoint {other:?}"),
    };
    let _dog = Watchdog::arm(ctx.remote(), peer::SCENARIO_LIMIT);
    ctx.connect(Connect::host("slow.lws.test", 9).protocol("c"))
        .expect("connect returns at once");
    // The echo client starts once the query has reached the server (the
    // lookup is pending), exchanges until the DNS error is reported, then
    // once more; the context stops when it closes.
    let seen = dns.seen.recv_timeout(peer::SCENARIO_LIMIT);
    let f = failed.clone();
    let remote = ctx.remote();
    let echo = thread::spawn(move || {
        let mut s = peer::connect(echo_addr);
        let mut before = 0u32;
        for _ in 0..200_000 {
            let done = f.load(Ordering::SeqCst);
            peer::send(&mut s, b"ping");
            assert_eq!(peer::read_n(&mut s, 4), b"ping");
            if done {
                break;
            }
            before += 1;
            thread::sleep(Duration::from_millis(1));
        }
        drop(s);
        remote.stop();
        before
    });
    let mut ctx = run(ctx);
    let before = echo.join().expect("echo peer");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(seen.is_ok(), "the query never reached the nameserver");
    let h = user(&mut ctx);
    assert_eq!(
        h.errors,
        vec![(io::ErrorKind::TimedOut, Some(DnsError::Timeout))]
    );
    assert!(
        before > 0,
        "no echo exchange was served while the lookup was pending"
    );
}

/// A name with two addresses where the first refuses: the connect moves on
/// to the second and succeeds, with one connected event and no error.
pub fn next_address_after_refused(run: Runner<'_>) {
    let dns = Responder::start(Script::Answer);
    let (config, dir) = dns_files(dns.addr, 5, "multi");
    let (peer_addr, peer) = hello_world_peer(1);
    let h = DnsUser {
        expect: 2, // the reply and the lookup of NAME (or an error and ...)
        stop_on_error: true,
        ..Default::default()
    };
    let mut ctx = Context::builder()
        .vhost(VhostBuilder::new("default").protocol("c", RawProtocol::new(h)))
        .dns(config)
        .build()
        .expect("context");
    let _dog = Watchdog::arm(ctx.remote(), peer::SCENARIO_LIMIT);
    ctx.connect(Connect::host(MULTI, peer_addr.port()).protocol("c"))
        .expect("connect returns at once");
    let mut ctx = run(ctx);
    peer.join().expect("peer");
    let _ = std::fs::remove_dir_all(&dir);
    let h = user(&mut ctx);
    assert_eq!(h.errors, vec![]);
    assert_eq!((h.connected, h.replies.len()), (1, 1));
}

/// Every UDP answer is truncated: the resolver asks again over TCP (a
/// connection the context watches like any other) and the connect
/// proceeds with that answer.
pub fn truncated_answer_over_tcp(run: Runner<'_>) {
    let dns = Responder::start(Script::Truncate);
    let (config, dir) = dns_files(dns.addr, 5, "tc");
    let (peer_addr, peer) = hello_world_peer(1);
    let h = DnsUser {
        expect: 2, // the reply and the lookup of NAME
        stop_on_error: true,
        ..Default::default()
    };
    let mut ctx = Context::builder()
        .vhost(VhostBuilder::new("default").protocol("c", RawProtocol::new(h)))
        .dns(config)
        .build()
        .expect("context");
    let _dog = Watchdog::arm(ctx.remote(), peer::SCENARIO_LIMIT);
    ctx.connect(Connect::host(NAME, peer_addr.port()).protocol("c"))
        .expect("connect returns at once");
    let mut ctx = run(ctx);
    peer.join().expect("peer");
    let _ = std::fs::remove_dir_all(&dir);
    let asked = dns.asked();
    let h = user(&mut ctx);
    assert_eq!(h.errors, vec![]);
    assert_eq!((h.connected, h.replies.len()), (1, 1));
    assert!(
        asked.iter().any(|n| *n == format!("tcp:{NAME}")),
        "asked: {asked:?}"
    );
}
