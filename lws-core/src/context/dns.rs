//! Driving the sans-IO resolver from the context's own loop.
//!
//! The resolver (`lws_dns::Resolver`) asks for datagrams and TCP exchanges
//! on new sockets; each becomes a connection slot in state `Dns` with the
//! inert role, watched through the ordinary `IoCmd` path (so every loop
//! adapter serves it unchanged). Its retry deadline folds into
//! `next_deadline`. Answers (partial or whole) for a client connection in
//! state `Dialing` go to its Happy Eyeballs race (`race.rs`), which
//! connects or fails it with a typed DNS error; explicit lookups are
//! delivered to the protocol that asked as a context event. This file
//! must not block: the configuration files are read once, when the
//! context is built.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use lws_dns::{
    DnsError, FamilyPref, LookupId, Proto, Resolver, ResolverConfig, SocketKey, SystemConfig,
    Transmit,
};
use socket2::{Domain, SockAddr, Type};

use super::{Context, Inert};
use crate::conn::{Conn, ConnIo, ConnState, Dial};
use crate::dns::{DnsConfig, Lookup, dns_io_error};
use crate::eyeballs::Race;
use crate::protocol::ContextEvent;
use crate::role::CloseReason;
use crate::socket::{self, Endpoint, Socket};
use crate::token::{ConnKey, Readiness};

/// Most reads per readiness event on one resolver socket.
const DNS_READ_BUDGET: usize = 64;

/// Who waits for a lookup.
enum Waiter {
    /// A client connection in state `Dialing`.
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
    attempt_delay: Duration,
    resolution_delay: Duration,
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
            attempt_delay: config.attempt_delay,
            resolution_delay: config.resolution_delay,
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
    /// its slot, `Dialing`, with no descriptor) and racing its addresses;
    /// `port`, `timeout` and `attempt_delay` are for the attempts.
    pub(super) fn dial_host(
        &mut self,
        key: ConnKey,
        name: &str,
        port: u16,
        timeout: Duration,
        attempt_delay: Option<Duration>,
    ) {
        let now = self.now;
        let Some(d) = self.dns.as_mut() else {
            return self.connect_failed(key, dns_io_error(DnsError::Timeout));
        };
        let prefer_v6 = matches!(d.family, FamilyPref::PreferV6 | FamilyPref::V6Only);
        let delay = attempt_delay.unwrap_or(d.attempt_delay);
        let race = Race::new(prefer_v6, delay, d.resolution_delay);
        let id = d.resolver.lookup_with_partials(name, d.family, now);
        d.waiters.insert(id, Waiter::Conn(key));
        if let Some(conn) = self.conns.get_mut(key) {
            conn.io.dial = Some(Box::new(Dial {
                port,
                timeout,
                lookup: Some(id),
                race,
                attempts: Vec::new(),
                timer: None,
            }));
        }
        self.dns_pump();
    }

    /// Resolve `name` with the context's resolver, from outside any
    /// callback (the host application between loop turns, or before the
    /// loop runs). The result comes to `protocol` of `vhost` (default: the
    /// first vhost) as [`ContextEvent::Lookup`] carrying `id`, exactly as
    /// for [`Cx::lookup`](crate::Cx::lookup) from inside a callback; hosts
    /// entries, literals and cached answers arrive before this returns.
    /// A lookup pending when the context stops is dropped.
    ///
    /// ```no_run
    /// # fn f(ctx: &mut lws_core::Context) -> lws_core::Result<()> {
    /// ctx.lookup(None, "my-protocol", "example.com", 7)?;
    /// // ... later, in my-protocol's on_context_event:
    /// // ContextEvent::Lookup(Lookup { id: 7, result: Ok(addrs), .. })
    /// # Ok(()) }
    /// ```
    pub fn lookup(
        &mut self,
        vhost: Option<&str>,
        protocol: &str,
        name: impl Into<String>,
        id: u64,
    ) -> crate::Result<()> {
        if self.run != super::RunState::Running {
            return Err(crate::Error::Stopping);
        }
        self.now = self.clock_now();
        let v = self.vhost_index(vhost)?;
        let p = self.protocol_index(v, Some(protocol))?;
        self.lookup_for(v, p, id, name.into());
        self.process_ops();
        Ok(())
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

    /// A dialing connection no longer needs its lookup (it connected, or
    /// is being closed). The sockets the resolver no longer needs are
    /// closed by the next pump.
    pub(super) fn cancel_resolve(&mut self, id: LookupId) {
        if let Some(d) = self.dns.as_mut() {
            d.forget(id);
        }
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
            } else if let Some(p) = d.resolver.poll_partial() {
                if let Some(Waiter::Conn(key)) = d.waiters.get(&p.id) {
                    let key = *key;
                    self.race_answer(key, p.id, Ok(p.addrs), false);
                }
            } else if let Some(ev) = d.resolver.poll_event() {
                let waiter = d.waiters.remove(&ev.id);
                match waiter {
                    Some(Waiter::Conn(key)) => {
                        let result = ev.result.map(|a| a.addrs);
                        self.race_answer(key, ev.id, result, true);
                    }
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
