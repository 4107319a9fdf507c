//! For the integration tests: a `dnsmasq` started on a free loopback port
//! and stopped by PID, and a small blocking driver that carries the
//! resolver's transmits over real UDP/TCP sockets. Test code only: the
//! library itself never opens a socket.

use lws_dns::{LookupEvent, Proto, Resolver, SocketKey};
use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether `dnsmasq` is installed; if not, the test is skipped with a
/// printed reason, unless `LWS_REQUIRE_PEERS` is set (then it fails).
pub fn dnsmasq_installed() -> bool {
    let ok = Command::new("sh")
        .args(["-c", "command -v dnsmasq || test -x /usr/sbin/dnsmasq"])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("LWS_REQUIRE_PEERS").is_none(),
            "dnsmasq is missing and LWS_REQUIRE_PEERS is set"
        );
        println!("skipped: peer program dnsmasq is missing");
    }
    ok
}

/// A running dnsmasq, killed by PID on drop.
pub struct Dnsmasq {
    child: Child,
    /// Where it listens (UDP and TCP).
    pub addr: SocketAddr,
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port free for both UDP and TCP on 127.0.0.1 right now.
fn free_port() -> u16 {
    for _ in 0..50 {
        let Ok(udp) = UdpSocket::bind("127.0.0.1:0") else {
            continue;
        };
        let Ok(port) = udp.local_addr().map(|a| a.port()) else {
            continue;
        };
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port");
}

impl Dnsmasq {
    /// Starts dnsmasq answering only from `records` (its own options).
    pub fn start(records: &[String]) -> Self {
        for _ in 0..5 {
            let port = free_port();
            let bin = if Command::new("sh")
                .args(["-c", "command -v dnsmasq"])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
            {
                "dnsmasq"
            } else {
                "/usr/sbin/dnsmasq"
            };
            let child = Command::new(bin)
                .args([
                    "--no-daemon",
                    "--listen-address=127.0.0.1",
                    "--bind-interfaces",
                    "--no-resolv",
                    "--no-hosts",
                ])
                .args(["--conf-file=/dev/null", "--pid-file=", "--log-facility=-"])
                .arg(format!("--port={port}"))
                .args(records)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn dnsmasq");
            let mut server = Dnsmasq {
                child,
                addr: SocketAddr::from(([127, 0, 0, 1], port)),
            };
            if server.ready() {
                return server;
            }
        }
        panic!("dnsmasq did not start");
    }

    /// Waits until it accepts TCP connections, or has exited (port taken).
    fn ready(&mut self) -> bool {
        for _ in 0..500 {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return false;
            }
            if TcpStream::connect(self.addr).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }
}

enum Sock {
    Udp(UdpSocket),
    Tcp(TcpStream),
}

enum Input {
    Udp(SocketAddr, Vec<u8>),
    Tcp(Vec<u8>),
    Failed,
}

/// Carries a resolver's traffic over real sockets.
pub struct Driver {
    pub r: Resolver,
    socks: HashMap<SocketKey, Sock>,
    /// Every transmit made: protocol and server.
    pub sent: Vec<(Proto, SocketAddr)>,
}

impl Driver {
    pub fn new(r: Resolver) -> Self {
        Driver {
            r,
            socks: HashMap::new(),
            sent: Vec::new(),
        }
    }

    /// Runs until `want` lookups have finished (bounded: a stuck resolver
    /// fails the test after a minute instead of hanging it).
    pub fn run(&mut self, want: usize) -> Vec<LookupEvent> {
        let limit = Instant::now() + Duration::from_secs(60);
        let mut events = Vec::new();
        loop {
            let now = Instant::now();
            self.flush(now);
            events.extend(std::iter::from_fn(|| self.r.poll_event()));
            if events.len() >= want {
                return events;
            }
            assert!(now < limit, "resolver stuck: {events:?}");
            self.read(now);
            if self.r.poll_timeout().is_some_and(|t| t <= now) {
                self.r.handle_timeout(now);
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn flush(&mut self, now: Instant) {
        while let Some(t) = self.r.poll_transmit(now) {
            self.sent.push((t.proto, t.server));
            let sock = match t.proto {
                Proto::Udp => open_udp(t.local_port)
                    .and_then(|s| s.send_to(&t.bytes, t.server).map(|_| Sock::Udp(s))),
                Proto::Tcp => open_tcp(t.server, &t.bytes).map(Sock::Tcp),
            };
            match sock {
                Ok(sock) => drop(self.socks.insert(t.socket, sock)),
                Err(_) => self.r.handle_socket_error(t.socket, now),
            }
        }
        while let Some(key) = self.r.poll_close() {
            self.socks.remove(&key);
        }
    }

    fn read(&mut self, now: Instant) {
        let mut inputs = Vec::new();
        let mut buf = [0u8; 4096];
        for (key, sock) in &mut self.socks {
            let input = match sock {
                Sock::Udp(s) => match s.recv_from(&mut buf) {
                    Ok((n, from)) => Input::Udp(from, buf[..n].to_vec()),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                    Err(_) => Input::Failed,
                },
                Sock::Tcp(s) => match s.read(&mut buf) {
                    Ok(0) => Input::Failed,
                    Ok(n) => Input::Tcp(buf[..n].to_vec()),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                    Err(_) => Input::Failed,
                },
            };
            inputs.push((*key, input));
        }
        for (key, input) in inputs {
            match input {
                Input::Udp(from, bytes) => self.r.handle_udp(key, from, &bytes, now),
                Input::Tcp(bytes) => self.r.handle_tcp(key, &bytes, now),
                Input::Failed => self.r.handle_socket_error(key, now),
            }
        }
    }
}

fn open_udp(port: u16) -> std::io::Result<UdpSocket> {
    let s = UdpSocket::bind(("127.0.0.1", port)).or_else(|_| UdpSocket::bind("127.0.0.1:0"))?;
    s.set_nonblocking(true)?;
    Ok(s)
}

fn open_tcp(server: SocketAddr, bytes: &[u8]) -> std::io::Result<TcpStream> {
    let mut s = TcpStream::connect_timeout(&server, Duration::from_secs(5))?;
    s.write_all(bytes)?;
    s.set_nonblocking(true)?;
    Ok(s)
}
