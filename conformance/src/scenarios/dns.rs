//! Asynchronous DNS on the context's own loop: clients connect by host
//! name through a resolver on 127.0.0.1 (a scripted UDP responder thread
//! written with std sockets), `/etc/hosts`-style entries and IP literals
//! connect without a query, NXDOMAIN and a silent server end the connect
//! with typed DNS errors while other connections keep being served, and an
//! explicit lookup delivers its result event to the protocol that asked.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use lws_core::{
    ConnCx, Connect, Context, ContextEvent, Cx, DnsConfig, DnsError, Endpoint, Lookup,
    VhostBuilder, dns_error,
};
use lws_role_raw::{OpenKind, RawEvent, RawHandler, RawProtocol};

use super::dns_peer::{Responder, Script};
use crate::Runner;
use crate::peer::{self, Echo, Watchdog};

/// The name the responder answers with 127.0.0.1 (A; AAAA has no data).
pub(super) const NAME: &str = "svc.lws.test";
/// The name the hosts file lists.
const HOSTED: &str = "hosted.lws.test";
/// A hosts name with two addresses; only the second one is served.
const MULTI: &str = "multi.lws.test";
/// A name the responder says does not exist.
const GONE: &str = "gone.lws.test";

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
