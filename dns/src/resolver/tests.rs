//! Lookup tests: the resolver driven on a virtual clock with hand-built
//! answers (no sockets). One test per rule of `lookup.rs`, `answer.rs` and
//! `cache.rs`; the wire rules of `query.rs` are in `tests_wire.rs`.

use super::testbed::{NS, bench, bench_with, v4, v6};
use super::*;
use crate::proto::RType;

#[test]
fn hosts_and_literals_answer_without_queries() {
    let mut b = bench(NS, "192.0.2.9 box.lan box\n2001:db8::9 box.lan\n");
    b.r.lookup("BOX.lan.", FamilyPref::PreferV6, b.now);
    assert_eq!(b.addrs(), [IpAddr::V6(v6(9)), IpAddr::V4(v4(9))]);
    b.r.lookup("box", FamilyPref::V4Only, b.now);
    assert_eq!(b.addrs(), [IpAddr::V4(v4(9))]);
    b.r.lookup("2001:db8::1", FamilyPref::PreferV4, b.now);
    assert_eq!(b.addrs(), [IpAddr::V6(v6(1))]);
    b.r.lookup("192.0.2.1", FamilyPref::V6Only, b.now);
    assert_eq!(b.error(), DnsError::NoAddress);
    b.nothing_sent();
}

#[test]
fn hosts_without_the_family_falls_through_to_dns() {
    let mut b = bench(NS, "192.0.2.9 box.lan\n");
    b.r.lookup("box.lan", FamilyPref::V6Only, b.now);
    let q = b.sent();
    assert_eq!((q.2.as_str(), q.3), ("box.lan", RType::Aaaa));
}

#[test]
fn search_list_first_below_ndots_then_as_given() {
    let mut b = bench(
        &format!("{NS}search a.example b.example\noptions ndots:2\n"),
        "",
    );
    b.r.lookup("www.x", FamilyPref::V4Only, b.now);
    for want in ["www.x.a.example", "www.x.b.example", "www.x"] {
        let q = b.sent();
        assert_eq!(q.2, want);
        if want == "www.x" {
            b.reply(&q, |f| f.a("www.x", 60, v4(1)));
        } else {
            b.reply(&q, |f| f.rcode(3));
        }
    }
    assert_eq!(b.event().result.map(|a| a.name), Ok("www.x".to_string()));
}

#[test]
fn search_list_as_given_first_at_ndots_and_absolute_alone() {
    let mut b = bench(&format!("{NS}search a.example\noptions ndots:1\n"), "");
    b.r.lookup("www.x", FamilyPref::V4Only, b.now);
    let q = b.sent();
    assert_eq!(q.2, "www.x");
    b.reply(&q, |f| f.rcode(3));
    let q = b.sent();
    assert_eq!(q.2, "www.x.a.example");
    b.reply(&q, |f| f.rcode(3));
    assert_eq!(b.error(), DnsError::NxDomain);
    b.r.lookup("abs.example.", FamilyPref::V4Only, b.now);
    let q = b.sent();
    b.reply(&q, |f| f.rcode(3));
    assert_eq!(b.error(), DnsError::NxDomain);
    b.nothing_sent();
}

#[test]
fn both_families_asked_and_ordered_by_preference() {
    for (pref, first) in [
        (FamilyPref::PreferV6, RType::Aaaa),
        (FamilyPref::PreferV4, RType::A),
    ] {
        let mut b = bench(NS, "");
        b.r.lookup("dual.example", pref, b.now);
        let q1 = b.sent();
        let q2 = b.sent();
        assert_eq!(q1.3, first);
        for q in [&q2, &q1] {
            if q.3 == RType::A {
                b.reply(q, |f| f.a("dual.example", 60, v4(1)));
            } else {
                b.reply(q, |f| f.aaaa("dual.example", 60, v6(1)));
            }
        }
        let addrs = b.addrs();
        assert_eq!(addrs[0].is_ipv6(), first == RType::Aaaa);
        assert_eq!(addrs.len(), 2);
    }
}

#[test]
fn one_family_failing_still_answers_with_the_other() {
    let mut b = bench(NS, "");
    b.r.lookup("half.example", FamilyPref::PreferV6, b.now);
    let (q6, q4) = (b.sent(), b.sent());
    b.reply(&q6, |f| f.soa("example", 60, 60));
    b.reply(&q4, |f| f.a("half.example", 60, v4(4)));
    assert_eq!(b.addrs(), [IpAddr::V4(v4(4))]);
}

#[test]
fn cname_chain_in_one_answer_gives_canonical_name() {
    let mut b = bench(NS, "");
    b.r.lookup("www.example", FamilyPref::V4Only, b.now);
    let q = b.sent();
    b.reply(&q, |f| {
        f.cname("www.example", 300, "edge.example")
            .cname("edge.example", 30, "host.cdn")
            .a("host.cdn", 60, v4(7))
            .a("other.example", 60, v4(8))
    });
    let answer = b.event().result.expect("answer");
    assert_eq!(
        (answer.name.as_str(), answer.addrs, answer.ttl),
        ("host.cdn", vec![IpAddr::V4(v4(7))], Duration::from_secs(30))
    );
}

#[test]
fn cname_without_address_is_followed_by_a_new_query() {
    let mut b = bench(NS, "");
    b.r.lookup("alias.example", FamilyPref::V4Only, b.now);
    let q = b.sent();
    b.reply(&q, |f| f.cname("alias.example", 300, "target.other"));
    let q = b.sent();
    assert_eq!(q.2, "target.other");
    b.reply(&q, |f| f.a("target.other", 60, v4(2)));
    assert_eq!(b.addrs(), [IpAddr::V4(v4(2))]);
}

#[test]
fn cname_chain_bounded_in_an_answer_and_across_queries() {
    let mut b = bench_with(NS, "", |c| c.max_chain = 3);
    b.r.lookup("c0.example", FamilyPref::V4Only, b.now);
    let q = b.sent();
    b.reply(&q, |f| {
        (0..4)
            .fold(f, |f, i| {
                f.cname(&format!("c{i}.example"), 60, &format!("c{}.example", i + 1))
            })
            .a("c4.example", 60, v4(1))
    });
    assert_eq!(b.error(), DnsError::AliasChainTooLong(3));
    b.r.lookup("d0.example", FamilyPref::V4Only, b.now);
    for i in 0..4 {
        let q = b.sent();
        assert_eq!(q.2, format!("d{i}.example"));
        b.reply(&q, |f| {
            f.cname(&format!("d{i}.example"), 60, &format!("d{}.example", i + 1))
        });
    }
    assert_eq!(b.error(), DnsError::AliasChainTooLong(3));
    b.nothing_sent();
}

#[test]
fn cache_honours_ttl() {
    let mut b = bench(NS, "");
    b.r.lookup("c.example", FamilyPref::V4Only, b.now);
    let q = b.sent();
    b.reply(&q, |f| f.a("c.example", 100, v4(3)));
    b.event();
    b.advance(99);
    b.r.lookup("C.Example", FamilyPref::V4Only, b.now);
    assert_eq!(b.event().result.map(|a| a.ttl), Ok(Duration::from_secs(1)));
    b.nothing_sent();
    b.advance(1);
    b.r.lookup("c.example", FamilyPref::V4Only, b.now);
    let _ = b.sent();
}

#[test]
fn cache_clamps_ttl_to_min_and_max() {
    let mut b = bench_with(NS, "", |c| {
        c.cache.min_ttl = Duration::from_secs(30);
        c.cache.max_ttl = Duration::from_secs(60);
    });
    b.r.lookup("short.example", FamilyPref::V4Only, b.now);
    let q = b.sent();
    b.reply(&q, |f| f.a("short.example", 0, v4(1)));
    b.r.lookup("long.example", FamilyPref::V4Only, b.now);
    let q = b.sent();
    b.reply(&q, |f| f.a("long.example", 86_400, v4(2)));
    b.advance(29);
    b.r.lookup("short.example", FamilyPref::V4Only, b.now);
    b.nothing_sent();
    b.advance(31);
    b.r.lookup("long.example", FamilyPref::V4Only, b.now);
    assert_eq!(b.sent().2, "long.example");
}

#[test]
fn rfc2308_negative_answers_cached_for_soa_minimum() {
    let mut b = bench(NS, "");
    b.r.lookup("nx.example", FamilyPref::V4Only, b.now);
    let q = b.sent();
    b.reply(&q, |f| f.rcode(3).soa("example", 900, 60));
    assert_eq!(b.error(), DnsError::NxDomain);
    b.advance(59);
    b.r.lookup("nx.example", FamilyPref::V4Only, b.now);
    assert_eq!(b.error(), DnsError::NxDomain);
    b.nothing_sent();
    b.advance(1);
    b.r.lookup("nx.example", FamilyPref::V4Only, b.now);
    let q = b.sent();
    // RFC 2308 §5: without an SOA the negative answer is not cached.
    b.reply(&q, |f| f.rcode(3));
    b.error();
    b.r.lookup("nx.example", FamilyPref::V4Only, b.now);
    let _ = b.sent();
}

#[test]
fn rfc2308_nodata_is_no_address_and_cached() {
    let mut b = bench(NS, "");
    b.r.lookup("v4only.example", FamilyPref::V6Only, b.now);
    let q = b.sent();
    b.reply(&q, |f| f.soa("example", 30, 300));
    assert_eq!(b.error(), DnsError::NoAddress);
    b.advance(29);
    b.r.lookup("v4only.example", FamilyPref::V6Only, b.now);
    assert_eq!(b.error(), DnsError::NoAddress);
    b.nothing_sent();
}

#[test]
fn concurrent_lookups_share_one_query() {
    let mut b = bench(NS, "");
    let one = b.r.lookup("shared.example", FamilyPref::V4Only, b.now);
    let two = b.r.lookup("shared.example.", FamilyPref::V4Only, b.now);
    let q = b.sent();
    b.nothing_sent();
    b.reply(&q, |f| f.a("shared.example", 60, v4(5)));
    let ids = [b.event().id, b.event().id];
    assert_eq!(ids, [one, two]);
}

#[test]
fn cancelled_lookup_sends_no_event_and_closes_its_socket() {
    let mut b = bench(NS, "");
    let id = b.r.lookup("gone.example", FamilyPref::V4Only, b.now);
    let q = b.sent();
    b.r.cancel(id);
    assert_eq!(b.r.poll_close(), Some(q.0.socket));
    b.reply(&q, |f| f.a("gone.example", 60, v4(1)));
    assert_eq!(b.r.poll_event(), None);
    assert_eq!(b.r.poll_timeout(), None);
}

#[test]
fn work_per_lookup_is_bounded() {
    let mut b = bench_with(&format!("{NS}search a b c d\noptions ndots:3\n"), "", |c| {
        c.max_queries = 3
    });
    b.r.lookup("w", FamilyPref::V4Only, b.now);
    for _ in 0..3 {
        let q = b.sent();
        b.reply(&q, |f| f.rcode(3));
    }
    assert_eq!(b.error(), DnsError::TooManyQueries(3));
    b.nothing_sent();
}

#[test]
fn invalid_names_fail_at_once() {
    let mut b = bench(NS, "");
    b.r.lookup("a..b", FamilyPref::V4Only, b.now);
    assert!(matches!(b.error(), DnsError::InvalidName(_)));
    b.nothing_sent();
}

#[test]
fn rfc2308_nxdomain_at_the_end_of_a_chain_is_nxdomain() {
    let mut b = bench(NS, "");
    b.r.lookup("dangling.example", FamilyPref::V4Only, b.now);
    let q = b.sent();
    b.reply(&q, |f| {
        f.rcode(3)
            .cname("dangling.example", 60, "gone.other")
            .soa("other", 60, 60)
    });
    assert_eq!(b.error(), DnsError::NxDomain);
}

#[test]
fn cached_alias_is_followed_without_asking_again() {
    let mut b = bench(NS, "");
    b.r.lookup("alias.example", FamilyPref::V4Only, b.now);
    let q = b.sent();
    b.reply(&q, |f| f.cname("alias.example", 300, "target.other"));
    let q = b.sent();
    b.reply(&q, |f| f.a("target.other", 300, v4(2)));
    b.event();
    b.r.lookup("alias.example", FamilyPref::V4Only, b.now);
    assert_eq!(
        b.event().result.map(|a| (a.name, a.addrs)),
        Ok(("target.other".to_string(), vec![IpAddr::V4(v4(2))]))
    );
    b.nothing_sent();
}
