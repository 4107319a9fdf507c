//! Test-only: a resolver on a virtual clock ([`Bench`]) with helpers to read
//! what it sends and to answer with hand-built responses, shared by
//! `tests.rs` and `tests_wire.rs`. No sockets, no real time.

use super::*;
use crate::config::ResolvConf;
use crate::proto::forge::Forge;
use crate::proto::{Message, RType};
use std::net::{Ipv4Addr, Ipv6Addr};

/// A resolver on a virtual clock.
pub struct Bench {
    pub r: Resolver,
    pub now: Instant,
}

pub fn bench(resolv: &str, hosts: &str) -> Bench {
    bench_with(resolv, hosts, |_| {})
}

pub fn bench_with(resolv: &str, hosts: &str, tune: impl FnOnce(&mut ResolverConfig)) -> Bench {
    let system = SystemConfig {
        resolv: ResolvConf::parse(resolv),
        hosts: Hosts::parse(hosts),
    };
    let mut config = ResolverConfig::new(system);
    tune(&mut config);
    Bench {
        r: Resolver::with_rng(config, fastrand::Rng::with_seed(7)),
        now: Instant::now(),
    }
}

pub const NS: &str = "nameserver 192.0.2.53\n";

impl Bench {
    pub fn advance(&mut self, secs: u64) {
        self.now += Duration::from_secs(secs);
        self.r.handle_timeout(self.now);
    }

    /// The one transmit now queued, with its question.
    pub fn sent(&mut self) -> (Transmit, u16, String, RType) {
        let t = self.r.poll_transmit(self.now).expect("a transmit");
        let body = if t.proto == Proto::Tcp {
            &t.bytes[2..]
        } else {
            &t.bytes[..]
        };
        let m = Message::parse(body).expect("query parses");
        let q = m.question.expect("question");
        let (id, name, qtype) = (m.header.id, q.name.to_string(), q.qtype);
        (t, id, name, qtype)
    }

    pub fn nothing_sent(&mut self) {
        assert_eq!(self.r.poll_transmit(self.now), None);
    }

    /// Answers transmit `t` with `build(forge)` from its own server.
    pub fn reply(
        &mut self,
        sent: &(Transmit, u16, String, RType),
        build: impl FnOnce(Forge) -> Forge,
    ) {
        let (t, id, name, qtype) = sent;
        let bytes = build(Forge::response(*id, name, *qtype)).build();
        self.r.handle_udp(t.socket, t.server, &bytes, self.now);
    }

    pub fn event(&mut self) -> LookupEvent {
        self.r.poll_event().expect("an event")
    }

    pub fn addrs(&mut self) -> Vec<IpAddr> {
        match self.event().result {
            Ok(a) => a.addrs,
            Err(e) => panic!("lookup failed: {e}"),
        }
    }

    pub fn error(&mut self) -> DnsError {
        match self.event().result {
            Ok(a) => panic!("lookup succeeded: {a:?}"),
            Err(e) => e,
        }
    }
}

pub fn v4(a: u8) -> Ipv4Addr {
    Ipv4Addr::new(192, 0, 2, a)
}

pub fn v6(a: u16) -> Ipv6Addr {
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, a)
}
