//! The DNS codec and the resolver's response handling on arbitrary bytes:
//! parsing must never panic, a parsed message must yield exactly the
//! records its header counts, every name must respect the 255/63 limits,
//! and the same bytes fed to a resolver as the answer to its query (with
//! the query's id patched in) must not panic either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lws_dns::proto::{MAX_LABEL_LEN, MAX_NAME_LEN, Message, Section};
use lws_dns::{FamilyPref, Hosts, ResolvConf, Resolver, ResolverConfig, SystemConfig};
use std::time::Instant;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = Message::parse(data) {
        let h = msg.header;
        let counts = if h.tc {
            [0; 3]
        } else {
            [h.ancount, h.nscount, h.arcount]
        };
        for (section, count) in [Section::Answer, Section::Authority, Section::Additional]
            .into_iter()
            .zip(counts)
        {
            let records: Vec<_> = msg.records(section).collect();
            assert_eq!(records.len(), usize::from(count));
            for r in records {
                assert!(r.name.wire().len() <= MAX_NAME_LEN);
                assert!(
                    r.name
                        .labels()
                        .all(|l| !l.is_empty() && l.len() <= MAX_LABEL_LEN)
                );
                assert!(r.ttl <= i32::MAX as u32);
            }
        }
    }
    resolve(data);
});

fn resolve(data: &[u8]) {
    let resolv = ResolvConf::parse("nameserver 192.0.2.53\n");
    let config = ResolverConfig::new(SystemConfig {
        resolv,
        hosts: Hosts::default(),
    });
    let mut r = Resolver::with_rng(config, fastrand::Rng::with_seed(1));
    let now = Instant::now();
    r.lookup("www.example.com", FamilyPref::V4Only, now);
    let Some(t) = r.poll_transmit(now) else {
        return;
    };
    let mut bytes = data.to_vec();
    if bytes.len() >= 2 {
        bytes[..2].copy_from_slice(&t.bytes[..2]);
    }
    r.handle_udp(t.socket, t.server, &bytes, now);
    while r.poll_transmit(now).is_some() {}
    while r.poll_event().is_some() {}
}
