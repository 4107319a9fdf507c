//! The resolver state machine: lookups by name, sans IO.
//!
//! Shaped like quinn-proto's `Connection`: inputs are
//! [`Resolver::lookup`], [`Resolver::handle_udp`], [`Resolver::handle_tcp`],
//! [`Resolver::handle_socket_error`] and [`Resolver::handle_timeout`], each
//! with the caller's `now`; outputs are drained with
//! [`Resolver::poll_transmit`] (datagrams and TCP requests to send, each on
//! a new socket named by a [`SocketKey`]), [`Resolver::poll_close`] (sockets
//! no longer needed), [`Resolver::poll_timeout`] and
//! [`Resolver::poll_event`] (finished lookups; with
//! [`Resolver::lookup_with_partials`], [`Resolver::poll_partial`] reports
//! the first family's addresses early). The randomness (query ids,
//! source ports) comes from an injectable [`fastrand::Rng`], seeded from the
//! OS by [`Resolver::new`].
//!
//! A lookup answers from `/etc/hosts` first, then tries the search list
//! (ndots rules), asking A and/or AAAA per [`FamilyPref`], following CNAME
//! chains (bounded) and caching per TTL; lookups of one name share one
//! query. This module holds the public types and the queues; `lookup.rs`
//! has the lookup logic, `query.rs` the wire exchange, `answer.rs` the
//! reading of a response and `cache.rs` the cache. It must not open
//! sockets or read clocks.

mod answer;
mod cache;
mod lookup;
mod query;
#[cfg(test)]
mod testbed;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_partial;
#[cfg(test)]
mod tests_wire;

pub use cache::CachePolicy;

use crate::DnsError;
use crate::config::{Hosts, SystemConfig};
use cache::{Cache, Key};
use lookup::Lookup;
use query::{Progress, Query, Transport};
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// Names one lookup, from [`Resolver::lookup`] to its [`LookupEvent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LookupId(pub u64);

/// Names one socket the caller opens for a [`Transmit`]: every transmit
/// names a new one; the caller feeds what arrives on it back with this key
/// and closes it when [`Resolver::poll_close`] says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SocketKey(pub u64);

/// How a transmit travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    /// One datagram on a new UDP socket.
    Udp,
    /// A new TCP connection; `bytes` carry the 2-byte length prefix.
    Tcp,
}

/// Something to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The new socket to open for it.
    pub socket: SocketKey,
    /// The nameserver.
    pub server: SocketAddr,
    /// UDP or TCP.
    pub proto: Proto,
    /// The random source port to bind (UDP; 0 for TCP). If it is taken,
    /// bind port 0 instead.
    pub local_port: u16,
    /// The message (length-prefixed for TCP).
    pub bytes: Vec<u8>,
}

/// Which address families a lookup wants, in order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FamilyPref {
    /// A only.
    V4Only,
    /// AAAA only.
    V6Only,
    /// Both, IPv6 addresses first (RFC 6724 default).
    PreferV6,
    /// Both, IPv4 addresses first.
    PreferV4,
}

/// A successful lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The canonical name (the end of any CNAME chain), or the name asked.
    pub name: String,
    /// The addresses, in the order of the [`FamilyPref`].
    pub addrs: Vec<IpAddr>,
    /// How long the answer stays valid (zero for hosts and literals).
    pub ttl: Duration,
}

/// A finished lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupEvent {
    /// The lookup.
    pub id: LookupId,
    /// Its result.
    pub result: Result<Answer, DnsError>,
}

/// The addresses of the first address family answered while the lookup
/// still waits for the other one ([`Resolver::lookup_with_partials`]). The
/// lookup goes on; its [`LookupEvent`] is then a success that lists these
/// addresses again, with the other family's (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialAnswer {
    /// The lookup.
    pub id: LookupId,
    /// Addresses of one family, in answer order.
    pub addrs: Vec<IpAddr>,
}

/// Everything the resolver is told at creation.
#[derive(Debug, Clone)]
pub struct ResolverConfig {
    /// resolv.conf and hosts.
    pub system: SystemConfig,
    /// Cache lifetimes and size.
    pub cache: CachePolicy,
    /// Longest CNAME chain followed, in one answer and across follow-ups.
    pub max_chain: u8,
    /// Most queries one lookup may start or join.
    pub max_queries: u16,
}

impl ResolverConfig {
    /// Defaults around the given system configuration.
    pub fn new(system: SystemConfig) -> Self {
        ResolverConfig {
            system,
            cache: CachePolicy::default(),
            max_chain: 8,
            max_queries: 24,
        }
    }
}

/// The resolver.
#[derive(Debug)]
pub struct Resolver {
    search: Vec<String>,
    ndots: u8,
    hosts: Hosts,
    max_queries: u16,
    transport: Transport,
    cache: Cache,
    queries: HashMap<Key, Query>,
    sockets: HashMap<SocketKey, Key>,
    lookups: HashMap<LookupId, Lookup>,
    events: VecDeque<LookupEvent>,
    partials: VecDeque<PartialAnswer>,
    next_lookup: u64,
}

impl Resolver {
    /// A resolver whose randomness is seeded from the OS.
    pub fn new(config: ResolverConfig) -> Self {
        let seed = getrandom::u64().unwrap_or_else(|_| fastrand::u64(..));
        Resolver::with_rng(config, fastrand::Rng::with_seed(seed))
    }

    /// A resolver drawing query ids and source ports from `rng`.
    pub fn with_rng(config: ResolverConfig, rng: fastrand::Rng) -> Self {
        let resolv = config.system.resolv;
        let mut transport =
            Transport::new(resolv.nameservers, resolv.timeout, resolv.attempts, rng);
        transport.rotate = resolv.rotate;
        transport.max_chain = config.max_chain;
        Resolver {
            search: resolv.search,
            ndots: resolv.ndots,
            hosts: config.system.hosts,
            max_queries: config.max_queries,
            transport,
            cache: Cache::new(config.cache),
            queries: HashMap::new(),
            sockets: HashMap::new(),
            lookups: HashMap::new(),
            events: VecDeque::new(),
            partials: VecDeque::new(),
            next_lookup: 0,
        }
    }

    /// Starts looking `name` up; the result comes as a [`LookupEvent`]
    /// (possibly at once, from hosts or the cache).
    pub fn lookup(&mut self, name: &str, pref: FamilyPref, now: Instant) -> LookupId {
        self.next_lookup += 1;
        let id = LookupId(self.next_lookup);
        self.start_lookup(id, name, pref, false, now);
        id
    }

    /// Like [`lookup`](Self::lookup), and when both families are asked,
    /// the first one to bring addresses while the other is still out is
    /// also reported at once as a [`PartialAnswer`]
    /// ([`poll_partial`](Self::poll_partial)), at most once per lookup: a
    /// caller racing connections (RFC 8305, Happy Eyeballs) can start with
    /// those. Hosts entries and literals answer whole at once; a family
    /// found in the cache while the other is asked counts as partial.
    pub fn lookup_with_partials(&mut self, name: &str, pref: FamilyPref, now: Instant) -> LookupId {
        self.next_lookup += 1;
        let id = LookupId(self.next_lookup);
        self.start_lookup(id, name, pref, true, now);
        id
    }

    /// Forgets a lookup: no event will come for it. Queries no other lookup
    /// waits for are dropped and their sockets queued for closing.
    pub fn cancel(&mut self, id: LookupId) {
        self.partials.retain(|p| p.id != id);
        if self.lookups.remove(&id).is_none() {
            return;
        }
        let idle: Vec<Key> = self
            .queries
            .iter_mut()
            .filter_map(|(key, q)| {
                q.waiters.retain(|w| *w != id);
                q.waiters.is_empty().then(|| key.clone())
            })
            .collect();
        for key in idle {
            if let Some(q) = self.queries.remove(&key) {
                self.sockets.remove(&q.socket);
                self.transport.closes.push_back(q.socket);
            }
        }
    }

    /// The next message to send, if any.
    pub fn poll_transmit(&mut self, _now: Instant) -> Option<Transmit> {
        self.transport.transmits.pop_front()
    }

    /// The next socket the caller should close, if any.
    pub fn poll_close(&mut self) -> Option<SocketKey> {
        self.transport.closes.pop_front()
    }

    /// The next finished lookup, if any.
    pub fn poll_event(&mut self) -> Option<LookupEvent> {
        self.events.pop_front()
    }

    /// The next partial answer, if any (only for lookups started with
    /// [`lookup_with_partials`](Self::lookup_with_partials)). Drain these
    /// before [`poll_event`](Self::poll_event): a lookup's partial answer
    /// is queued before its final event.
    pub fn poll_partial(&mut self) -> Option<PartialAnswer> {
        self.partials.pop_front()
    }

    /// When [`Resolver::handle_timeout`] should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.queries.values().map(|q| q.deadline).min()
    }

    /// A datagram arrived on `socket` from `from`.
    pub fn handle_udp(&mut self, socket: SocketKey, from: SocketAddr, bytes: &[u8], now: Instant) {
        self.with_query(socket, now, |q, t| q.on_udp(t, from, bytes, now));
    }

    /// Bytes arrived on the TCP connection `socket`.
    pub fn handle_tcp(&mut self, socket: SocketKey, bytes: &[u8], now: Instant) {
        self.with_query(socket, now, |q, t| q.on_tcp(t, bytes, now));
    }

    /// `socket` failed (connection refused or reset, ICMP unreachable, TCP
    /// closed before a whole answer): the query moves to its next try.
    pub fn handle_socket_error(&mut self, socket: SocketKey, now: Instant) {
        self.with_query(socket, now, |q, t| q.next_try(t, now));
    }

    /// Moves every query whose try has run out of time on.
    pub fn handle_timeout(&mut self, now: Instant) {
        let due: Vec<SocketKey> = self
            .queries
            .values()
            .filter(|q| q.deadline <= now)
            .map(|q| q.socket)
            .collect();
        for socket in due {
            self.handle_socket_error(socket, now);
        }
    }

    /// Entries in the cache (for tests and statistics).
    pub fn cache_len(&self) -> usize {
        self.cache.len()
    }

    fn with_query(
        &mut self,
        socket: SocketKey,
        now: Instant,
        f: impl FnOnce(&mut Query, &mut Transport) -> Progress,
    ) {
        let Some(key) = self.sockets.get(&socket).cloned() else {
            return;
        };
        let Some(q) = self.queries.get_mut(&key) else {
            return;
        };
        match f(q, &mut self.transport) {
            Progress::Waiting if q.socket != socket => {
                self.sockets.remove(&socket);
                self.sockets.insert(q.socket, key);
            }
            Progress::Waiting => {}
            Progress::Done(result) => {
                self.sockets.remove(&socket);
                if let Some(q) = self.queries.remove(&key) {
                    self.query_done(key, q.waiters, result, now);
                }
            }
        }
    }
}
