//! Happy Eyeballs (RFC 8305) on real sockets: a hosts-file name with both
//! `::1` and `127.0.0.1` on one port, where the IPv6 side is a listener
//! whose accept queue is full (the kernel drops further SYNs, so a connect
//! there hangs) or has no listener at all (refused). The IPv4 side must win
//! long before any connect timeout, with one connection event and no
//! error, and the losing attempt's socket must be gone (no `SYN_SENT`
//! socket to that port left in `/proc/net/tcp6`).

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::thread;
use std::time::Duration;

use lws_core::{ConnCx, Connect, Context, DnsConfig, VhostBuilder};
use lws_role_raw::{OpenKind, RawEvent, RawHandler, RawProtocol};
use socket2::{Domain, Socket, Type};

use crate::Runner;
use crate::peer::{self, Watchdog};

/// The name the hosts file maps to both loopback addresses.
const NAME: &str = "dual.lws.test";

/// What the client saw.
#[derive(Default)]
struct Dialer {
    /// The IPv6 port whose `SYN_SENT` sockets are counted.
    port: u16,
    peers: Vec<SocketAddr>,
    errors: Vec<io::Error>,
    reply: Vec<u8>,
    /// `SYN_SENT` sockets to `[::1]:port` when connected, and at close.
    syn_sent: Vec<usize>,
}

impl RawHandler for Dialer {
    type Session = ();

    fn on_event(&mut self, cx: &mut ConnCx<'_>, _: &mut (), ev: RawEvent<'_>) {
        match ev {
            RawEvent::Opened(OpenKind::Connected) => {
                self.peers.extend(cx.peer_addr());
                self.syn_sent.push(syn_sent_to_v6_loopback(self.port));
                let _ = cx.write(b"hello");
            }
            RawEvent::Rx(d) => self.reply.extend_from_slice(d),
            RawEvent::Closed(_) => {
                // Several loop turns after the win: every closed attempt's
                // descriptor has been released by now, on any loop.
                self.syn_sent.push(syn_sent_to_v6_loopback(self.port));
                cx.cx().stop();
            }
            RawEvent::ConnectError(e) => {
                self.errors.push(io::Error::new(e.kind(), e.to_string()));
                cx.cx().stop();
            }
            _ => {}
        }
    }
}

/// Sockets in state `SYN_SENT` (02) to `[::1]:port`, from `/proc/net/tcp6`.
fn syn_sent_to_v6_loopback(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp6").unwrap_or_default();
    let remote = format!("00000000000000000000000001000000:{port:04X}");
    table
        .lines()
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.get(2) == Some(&remote.as_str()) && f.get(3) == Some(&"02")
        })
        .count()
}

/// A listener on `[::1]:0` whose accept queue is full: one connection
/// queued (never accepted) behind a backlog of 0, so SYNs to it are
/// dropped. The filler may itself time out where SYN cookies are off; the
/// port drops SYNs either way.
fn blackholed_v6() -> io::Result<(Socket, Option<TcpStream>, u16)> {
    let l = Socket::new(Domain::IPV6, Type::STREAM, None)?;
    l.set_only_v6(true)?;
    l.bind(&SocketAddr::from((Ipv6Addr::LOCALHOST, 0)).into())?;
    l.listen(0)?;
    let addr = l.local_addr()?.as_socket().ok_or(io::ErrorKind::Other)?;
    let filler = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok();
    Ok((l, filler, addr.port()))
}

/// A peer on `127.0.0.1:port` answering one "hello" with "world", then
/// closing; gives up after the scenario limit.
fn v4_peer(port: u16) -> io::Result<thread::JoinHandle<()>> {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, port))?;
    l.set_nonblocking(true)?;
    Ok(thread::spawn(move || {
        let give_up = std::time::Instant::now() + peer::SCENARIO_LIMIT;
        while std::time::Instant::now() < give_up {
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
            s.write_all(b"world").expect("reply");
            return;
        }
    }))
}

/// A hosts file listing [`NAME`] at `::1` then `127.0.0.1`, and a
/// resolv.conf that is never used (hosts entries need no query).
fn hosts_files(tag: &str) -> (DnsConfig, PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "lws-conf-he-{tag}-{}-{:?}",
        std::process::id(),
        thread::current().id()
    ));
    std::fs::create_dir_all(&dir).expect("dir");
    let (resolv, hosts) = (dir.join("resolv.conf"), dir.join("hosts"));
    std::fs::write(&resolv, "nameserver 127.0.0.1\n").expect("resolv.conf");
    std::fs::write(&hosts, format!("::1 {NAME}\n127.0.0.1 {NAME}\n")).expect("hosts");
    (DnsConfig::with_paths(resolv, hosts), dir)
}

/// Run a connect to [`NAME`] on `port` with the client handler; returns it.
fn dial(run: Runner<'_>, port: u16, connect: Connect, tag: &str) -> Dialer {
    let (config, dir) = hosts_files(tag);
    let h = Dialer {
        port,
        ..Default::default()
    };
    let mut ctx = Context::builder()
        .vhost(VhostBuilder::new("default").protocol("c", RawProtocol::new(h)))
        .dns(config)
        .build()
        .expect("context");
    let _dog = Watchdog::arm(ctx.remote(), peer::SCENARIO_LIMIT);
    ctx.connect(connect.protocol("c"))
        .expect("connect returns at once");
    let mut ctx = run(ctx);
    let _ = std::fs::remove_dir_all(&dir);
    let p = ctx.protocol_mut::<RawProtocol<Dialer>>("default", "c");
    std::mem::take(p.expect("protocol c").handler_mut())
}

/// IPv6 blackholed: after the Connection Attempt Delay IPv4 is tried and
/// wins, although the connect timeout (longer than the watchdog) has not
/// passed; the hanging IPv6 attempt is cancelled.
pub fn blackholed_v6_loses_to_v4(run: Runner<'_>) {
    if !peer::ipv6_loopback() {
        return;
    }
    let (held, filler, port, peer) = loop {
        let (l, f, port) = blackholed_v6().expect("IPv6 listener");
        if let Ok(p) = v4_peer(port) {
            break (l, f, port, p);
        }
    };
    let c = Connect::host(NAME, port).timeout(peer::SCENARIO_LIMIT * 2);
    let h = dial(run, port, c, "blackhole");
    peer.join().expect("IPv4 peer");
    drop((held, filler));
    assert!(h.errors.is_empty(), "connect errors: {:?}", h.errors);
    assert_eq!(h.peers, [SocketAddr::from((Ipv4Addr::LOCALHOST, port))]);
    assert_eq!(h.reply, b"world");
    assert_eq!(
        h.syn_sent,
        [1, 0],
        "the IPv6 attempt hangs while IPv4 wins, and is gone afterwards"
    );
}

/// IPv6 refuses: the next address is tried at once, not after the
/// Connection Attempt Delay (set to an hour here).
pub fn refused_v6_moves_on_at_once(run: Runner<'_>) {
    if !peer::ipv6_loopback() {
        return;
    }
    let (port, peer) = loop {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        // Nothing listens on [::1]:port (bound nowhere): refused.
        if let Ok(p) = v4_peer(port) {
            break (port, p);
        }
    };
    let c = Connect::host(NAME, port).attempt_delay(Duration::from_secs(3600));
    let h = dial(run, port, c, "refused");
    peer.join().expect("IPv4 peer");
    assert!(h.errors.is_empty(), "connect errors: {:?}", h.errors);
    assert_eq!(h.peers, [SocketAddr::from((Ipv4Addr::LOCALHOST, port))]);
    assert_eq!(h.reply, b"world");
}
