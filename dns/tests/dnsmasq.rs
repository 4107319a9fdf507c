//! The resolver against a real server: dnsmasq on 127.0.0.1 with host
//! records, a CNAME, a name with more addresses than fit in 512 bytes (so
//! TC=1 and a TCP retry), NXDOMAIN names and a refused zone; the resolver's
//! traffic carried over real UDP and TCP sockets by a small test driver.

mod peer;

use lws_dns::{
    Answer, DnsError, FamilyPref, Hosts, Proto, ResolvConf, Resolver, ResolverConfig, SystemConfig,
};
use peer::{Dnsmasq, Driver, dnsmasq_installed};
use std::net::IpAddr;

fn records() -> Vec<String> {
    let mut r: Vec<String> = [
        "--local=/lws.test/",
        "--local-ttl=60",
        "--host-record=web.lws.test,127.0.0.5,::5",
        "--host-record=v4only.lws.test,127.0.0.6",
        "--cname=alias.lws.test,web.lws.test",
    ]
    .map(String::from)
    .to_vec();
    r.extend((1..=40).map(|i| format!("--host-record=big.lws.test,127.0.1.{i}")));
    r
}

fn driver(server: &Dnsmasq) -> Driver {
    let resolv = format!(
        "nameserver {}\nsearch lws.test\noptions timeout:5 attempts:2\n",
        server.addr
    );
    let system = SystemConfig {
        resolv: ResolvConf::parse(&resolv),
        hosts: Hosts::parse("127.0.0.9 pinned.lws.test\n"),
    };
    Driver::new(Resolver::new(ResolverConfig::new(system)))
}

fn one(d: &mut Driver, name: &str, pref: FamilyPref) -> Result<Answer, DnsError> {
    let id = d.r.lookup(name, pref, std::time::Instant::now());
    let event = d.run(1).remove(0);
    assert_eq!(event.id, id);
    event.result
}

fn ips(list: &[&str]) -> Vec<IpAddr> {
    list.iter().filter_map(|s| s.parse().ok()).collect()
}

#[test]
fn lookups_against_dnsmasq() {
    if !dnsmasq_installed() {
        return;
    }
    let server = Dnsmasq::start(&records());
    let mut d = driver(&server);

    let web = one(&mut d, "web.lws.test", FamilyPref::PreferV6).expect("web");
    assert_eq!(web.addrs, ips(&["::5", "127.0.0.5"]));
    assert_eq!(d.sent.len(), 2);

    let alias = one(&mut d, "alias.lws.test", FamilyPref::V4Only).expect("alias");
    assert_eq!(
        (alias.name.as_str(), alias.addrs),
        ("web.lws.test", ips(&["127.0.0.5"]))
    );

    assert_eq!(
        one(&mut d, "nx.lws.test.", FamilyPref::PreferV6),
        Err(DnsError::NxDomain)
    );
    assert_eq!(
        one(&mut d, "v4only.lws.test", FamilyPref::V6Only),
        Err(DnsError::NoAddress)
    );
    assert_eq!(
        one(&mut d, "elsewhere.example.", FamilyPref::V4Only),
        Err(DnsError::Refused)
    );

    // Search list: "web" is below ndots:1 so "web.lws.test" is tried first.
    let searched = one(&mut d, "web", FamilyPref::V4Only).expect("searched");
    assert_eq!(searched.addrs, ips(&["127.0.0.5"]));

    // From the cache and the hosts table: nothing sent.
    let before = d.sent.len();
    assert!(one(&mut d, "WEB.lws.test", FamilyPref::PreferV4).is_ok());
    assert_eq!(
        one(&mut d, "pinned.lws.test", FamilyPref::PreferV4).map(|a| a.addrs),
        Ok(ips(&["127.0.0.9"]))
    );
    assert_eq!(d.sent.len(), before);
}

#[test]
fn truncated_answer_retried_over_tcp_against_dnsmasq() {
    if !dnsmasq_installed() {
        return;
    }
    let server = Dnsmasq::start(&records());
    let mut d = driver(&server);
    let big = one(&mut d, "big.lws.test", FamilyPref::V4Only).expect("big");
    assert_eq!(big.addrs.len(), 40);
    assert_eq!(
        d.sent.iter().map(|s| s.0).collect::<Vec<_>>(),
        [Proto::Udp, Proto::Tcp]
    );
}

#[test]
fn concurrent_lookups_share_queries_against_dnsmasq() {
    if !dnsmasq_installed() {
        return;
    }
    let server = Dnsmasq::start(&records());
    let mut d = driver(&server);
    let now = std::time::Instant::now();
    for _ in 0..3 {
        d.r.lookup("web.lws.test", FamilyPref::PreferV6, now);
    }
    let events = d.run(3);
    assert!(
        events
            .iter()
            .all(|e| e.result.as_ref().is_ok_and(|a| a.addrs.len() == 2)),
        "{events:?}"
    );
    assert_eq!(d.sent.len(), 2);
}
