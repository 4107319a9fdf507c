//! Driving the sans-IO resolver from the context's own loop.
//!
//! The resolver (`lws_dns::Resolver`) asks for datagrams and TCP exchanges
//! on new sockets; each becomes a connection slot in state `Dns` with the
//! inert role, watched through the ordinary `IoCmd` path (so every loop
//! adapter serves it unchanged). Its retry deadline folds into
//! `next_deadline`. Finished lookups either start the socket of a client
//! connection waiting in state `Resolving`, fail it with a typed DNS
//! error, or are delivered to the protocol that asked as a context event.
//! This file must not block: the configuration files are read once, when
//! the context is built.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::os::fd::OwnedFd;
use std::time::Instant;

use lws_dns::{
    DnsError, FamilyPref, LookupId, Proto, Resolver, ResolverConfig, SocketKey, SystemConfig,
    Transmit,
};
use socket2::{Domain, SockAddr, Type};

use super::{Context, Inert};
use crate::conn::{Conn, ConnIo, ConnState, Dial};
use crate::cx::TimerEntry;
use crate::dns::{DnsConfig, Lookup, dns_io_error};
use crate::io_cmd::{Closing, IoCmd};
use crate::protocol::ContextEvent;
use crate::role::CloseReason;
use crate::socket::{self, Endpoint, Socket};
use crate::token::{ConnKey, Readiness};

/// Most reads per readiness event on one resolver socket.
const DNS_READ_BUDGET: usize = 64;

/// Who waits for a lookup.
enum Waiter {
    /// A client connection in state `Resolving`.
    Conn(ConnKey),
    /// A protocol that called `Cx::lookup`.
    Protocol {
        vhost: u16,
        protocol: u16,
        id: u64,
        name: String,
    },
}

/// The resolver and what the context keeps around it.
pub(super) struct DnsDriver {
    resolver: Resolver,
    family: FamilyPref,
    sockets: HashMap<SocketKey, ConnKey>,
    waiters: HashMap<LookupId, Waiter>,
}

impl std::fmt::Debug for DnsDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DnsDriver")
            .field("sockets", &self.sockets.len())
            .field("waiters", &self.waiters.len())
            .finish_non_exhaustive()
    }
}

impl DnsDriver {
    /// Read the configuration (a missing file gives the C library's
    /// defaults, logged) and create the resolver.
    pub(super) fn new(config: &DnsConfig) -> Self {
        let (system, errors) = SystemConfig::load(&config.paths);
        for e in errors {
            log::debug!("resolver configuration: {e}");
        }
        DnsDriver {
            resolver: Resolver::new(ResolverConfig::new(system)),
            family: config.family,
            sockets: HashMap::new(),
            waiters: HashMap::new(),
        }
    }

    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        self.resolver.poll_timeout()
    }

    /// A resolving connection went away (finalized): drop its lookup. The
    /// sockets the resolver no longer needs are closed by the next pump.
    pub(super) fn forget(&mut self, id: LookupId) {
        if self.waiters.remove(&id).is_some() {
            self.resolver.cancel(id);
        }
    }
}

impl Context {
    /// Start resolving `name` for the client connection `key` (already in
    /// its slot with no descriptor); `port` and `timeout` are for the
    /// connects that follow.
    pub(super) fn resolve_for(
        &mut self,
        key: ConnKey,
        name: &str,
        port: u16,
        timeout: std::time::Duration,
    ) {
        let now = self.now;
        let Some(d) = self.dns.as_mut() else {
            return self.connect_failed(key, dns_io_error(DnsError::Timeout));
        };
        let id = d.resolver.lookup(name, d.family, now);
        d.waiters.insert(id, Waiter::Conn(key));
        if let Some(conn) = self.conns.get_mut(key) {
            conn.io.state = ConnState::Resolving(id);
            conn.io.dial = Some(Box::new(Dial {
                port,
                timeout,
                rest: Default::default(),
            }));
        }
        self.dns_pump();
    }

    /// A protocol asked for `name`'s addresses (`Cx::lookup`).
    pub(super) fn lookup_for(&mut self, vhost: u16, protocol: u16, id: u64, name: String) {
        let now = self.now;
        let Some(d) = self.dns.as_mut() else {
            log::debug!("lookup of {name:?} after stop: dropped");
            return;
        };
        let lid = d.resolver.lookup(&name, d.family, now);
        let w = Waiter::Protocol {
            vhost,
            protocol,
            id,
            name,
        };
        d.waiters.insert(lid, w);
        self.dns_pump();
    }

    /// A resolving connection is being closed: forget its lookup.
    pub(super) fn cancel_resolve(&mut self, id: LookupId) {
        if let Some(d) = self.dns.as_mut() {
            d.waiters.remove(&id);
            d.resolver.cancel(id);
        }
        self.dns_pump();
    }

    /// Drop the resolver (context stopping): no more queries or timers.
    /// Its sockets are closed with every other connection.
    pub(super) fn dns_shutdown(&mut self) {
        self.dns = None;
    }

    /// The resolver's timer is due.
    pub(super) fn dns_timers(&mut self, now: Instant) {
        let Some(d) = self.dns.as_mut() else { return };
        if d.poll_timeout().is_some_and(|t| t <= now) {
            d.resolver.handle_timeout(now);
            self.dns_pump();
        }
    }

    /// Apply everything the resolver has queued: sockets to open and close,
    /// lookups finished.
    pub(super) fn dns_pump(&mut self) {
        loop {
            let now = self.now;
            let Some(d) = self.dns.as_mut() else { return };
            if let Some(t) = d.resolver.poll_transmit(now) {
                self.dns_send(t);
            } else if let Some(s) = d.resolver.poll_close() {
                if let Some(k) = d.sockets.remove(&s) {
                    self.finalize(k, CloseReason::Normal);
                }
            } else if let Some(ev) = d.resolver.poll_event() {
                let waiter = d.waiters.remove(&ev.id);
                match waiter {
                    Some(Waiter::Conn(key)) => self.resolved(key, ev.id, ev.result),
                    Some(Waiter::Protocol {
                        vhost,
                        protocol,
                        id,
                        name,
                    }) => {
                        let result = ev.result.map(|a| a.addrs);
                        let ev = ContextEvent::Lookup(Lookup { id, name, result });
                        self.notify_protocol(vhost, protocol, &ev);
                    }
                    None => {}
                }
            } else {
                return;
            }
        }
    }

    /// Open the socket a transmit asks for and send on it; a socket that
    /// cannot be made counts as that try failing.
    fn dns_send(&mut self, t: Transmit) {
        let opened = match t.proto {
            Proto::Udp => udp_send(&t).map(Socket::Udp),
            Proto::Tcp => {
                socket::start_connect(&Endpoint::Tcp(t.server)).and_then(|(s, r)| r.map(|_| s))
            }
        };
        let sock = match opened {
            Ok(s) => s,
            Err(e) => {
                log::debug!("resolver socket to {}: {e}", t.server);
                if let Some(d) = self.dns.as_mut() {
                    d.resolver.handle_socket_error(t.socket, self.now);
                }
                return;
            }
        };
        let mut io = ConnIo::new(sock, 0, 0, ConnState::Dns(t.socket, t.proto), self.now);
        if t.proto == Proto::Tcp {
            io.out.push(&t.bytes); // sent once the connect completes
        }
        let key = self.conns.insert(Conn {
            role: Box::new(Inert),
            io,
        });
        if let Some(d) = self.dns.as_mut() {
            d.sockets.insert(t.socket, key);
        }
        self.reconcile(key);
    }

    /// A resolver socket is ready.
    pub(super) fn dns_ready(&mut self, key: ConnKey, readiness: Readiness) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        let ConnState::Dns(skey, _) = conn.io.state else {
            return;
        };
        let failed = match conn.io.socket.take_error() {
            Ok(Some(_)) | Err(_) => true,
            Ok(None) => false,
        };
        if failed {
            return self.dns_socket_failed(skey);
        }
        if readiness.writable && !conn.io.out.is_empty() {
            if conn.io.flush().is_err() {
                return self.dns_socket_failed(skey);
            }
            self.reconcile(key);
        }
        if readiness.wants_read() {
            self.dns_read(key, skey);
        }
        self.dns_pump();
    }

    fn dns_read(&mut self, key: ConnKey, skey: SocketKey) {
        let mut buf = std::mem::take(&mut self.rx_buf);
        for _ in 0..DNS_READ_BUDGET {
            let Some(conn) = self.conns.get_mut(key) else {
                break;
            };
            let now = self.now;
            let got = match &mut conn.io.socket {
                Socket::Udp(s) => s.recv_from(&mut buf).map(|(n, from)| (n, Some(from))),
                s => s.read(&mut buf).map(|n| (n, None)),
            };
            let Some(d) = self.dns.as_mut() else { break };
            match got {
                Ok((n, Some(from))) => d.resolver.handle_udp(skey, from, &buf[..n], now),
                Ok((0, None)) => {
                    d.resolver.handle_socket_error(skey, now);
                    break;
                }
                Ok((n, None)) => d.resolver.handle_tcp(skey, &buf[..n], now),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    d.resolver.handle_socket_error(skey, now);
                    break;
                }
            }
        }
        self.rx_buf = buf;
    }

    fn dns_socket_failed(&mut self, skey: SocketKey) {
        let now = self.now;
        if let Some(d) = self.dns.as_mut() {
            d.resolver.handle_socket_error(skey, now);
        }
        self.dns_pump();
    }

    /// The lookup of a resolving connection finished.
    fn resolved(&mut self, key: ConnKey, id: LookupId, result: Result<lws_dns::Answer, DnsError>) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        if conn.io.state != ConnState::Resolving(id) {
            return;
        }
        let answer = match result {
            Ok(a) if !a.addrs.is_empty() => a,
            Ok(_) => return self.connect_failed(key, dns_io_error(DnsError::NoAddress)),
            Err(e) => return self.connect_failed(key, dns_io_error(e)),
        };
        let Some(dial) = conn.io.dial.as_mut() else {
            return self.connect_failed(key, dns_io_error(DnsError::NoAddress));
        };
        dial.rest = answer.addrs.into_iter().collect();
        self.next_address(key);
    }

    /// Connect a client connection to the next address it has, if any.
    /// Returns `false` when none is left.
    pub(super) fn next_address(&mut self, key: ConnKey) -> bool {
        let Some(conn) = self.conns.get_mut(key) else {
            return true;
        };
        let Some((ip, port, timeout)) = conn
            .io
            .dial
            .as_mut()
            .and_then(|d| d.rest.pop_front().map(|ip| (ip, d.port, d.timeout)))
        else {
            return false;
        };
        if let Some(t) = conn.io.timeout.take() {
            self.sched.cancel(t);
        }
        let addr = SocketAddr::new(ip, port);
        log::debug!("{:?}: connecting to {addr}", Self::token_of(key));
        let (sock, result) = match socket::start_connect(&Endpoint::Tcp(addr)) {
            Ok(v) => v,
            Err(e) => {
                self.attempt_failed(key, e);
                return true;
            }
        };
        let old = std::mem::replace(&mut conn.io.socket, sock);
        if conn.io.registered.take().is_some() {
            self.io_cmds.push_back(IoCmd::Unwatch {
                fd: old.fd(),
                token: Self::token_of(key),
                closing: Some(Closing(old)),
            });
        }
        conn.io.state = ConnState::Connecting;
        match result {
            Err(e) => self.attempt_failed(key, e),
            Ok(true) => self.finish_connect(key),
            Ok(false) => {
                conn.io.timeout = Some(
                    self.sched
                        .insert(self.now + timeout, TimerEntry::Timeout(key)),
                );
                self.reconcile(key);
            }
        }
        true
    }
}

/// A UDP socket from the transmit's source port (any port if that one is
/// taken), connected to the server so only its datagrams arrive, with the
/// query sent.
fn udp_send(t: &Transmit) -> io::Result<UdpSocket> {
    let s = socket2::Socket::new(
        Domain::for_address(t.server),
        Type::DGRAM.nonblocking().cloexec(),
        None,
    )?;
    let any: IpAddr = match t.server {
        SocketAddr::V4(_) => std::net::Ipv4Addr::UNSPECIFIED.into(),
        SocketAddr::V6(_) => std::net::Ipv6Addr::UNSPECIFIED.into(),
    };
    if s.bind(&SockAddr::from(SocketAddr::new(any, t.local_port)))
        .is_err()
    {
        s.bind(&SockAddr::from(SocketAddr::new(any, 0)))?;
    }
    s.connect(&SockAddr::from(t.server))?;
    let udp = UdpSocket::from(OwnedFd::from(s));
    udp.send(&t.bytes)?;
    Ok(udp)
}
