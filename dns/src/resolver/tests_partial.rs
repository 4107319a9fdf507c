//! Partial answers (`lookup_with_partials`): the first family's addresses
//! reported while the other family is still asked, for callers racing
//! connections (RFC 8305 §3). On a virtual clock, no sockets.

use super::testbed::{NS, bench, v4, v6};
use super::*;
use crate::proto::RType;

/// Both queries of a dual-stack lookup, AAAA first then A.
fn dual(
    b: &mut super::testbed::Bench,
    name: &str,
    partials: bool,
) -> [(Transmit, u16, String, RType); 2] {
    match partials {
        true => b.r.lookup_with_partials(name, FamilyPref::PreferV6, b.now),
        false => b.r.lookup(name, FamilyPref::PreferV6, b.now),
    };
    let (q6, q4) = (b.sent(), b.sent());
    assert_eq!((q6.3, q4.3), (RType::Aaaa, RType::A));
    [q6, q4]
}

#[test]
fn rfc8305_a_before_aaaa_is_reported_early_then_the_whole_answer() {
    let mut b = bench(NS, "");
    let [q6, q4] = dual(&mut b, "dual.example", true);
    b.reply(&q4, |f| f.a("dual.example", 60, v4(1)));
    let early = b.r.poll_partial().expect("a partial answer");
    assert_eq!(early.addrs, [IpAddr::V4(v4(1))]);
    assert!(
        b.r.poll_event().is_none(),
        "the lookup is still waiting for AAAA"
    );
    b.reply(&q6, |f| f.aaaa("dual.example", 60, v6(1)));
    assert!(
        b.r.poll_partial().is_none(),
        "one partial answer per lookup"
    );
    let event = b.event();
    assert_eq!(event.id, early.id);
    let answer = event.result.expect("answer");
    assert_eq!(answer.addrs, [IpAddr::V6(v6(1)), IpAddr::V4(v4(1))]);
}

#[test]
fn rfc8305_aaaa_first_is_reported_early_too() {
    let mut b = bench(NS, "");
    let [q6, q4] = dual(&mut b, "dual.example", true);
    b.reply(&q6, |f| f.aaaa("dual.example", 60, v6(2)));
    assert_eq!(
        b.r.poll_partial().map(|p| p.addrs),
        Some(vec![IpAddr::V6(v6(2))])
    );
    // The other family failing still ends in a success with the first.
    b.reply(&q4, |f| f.rcode(2));
    b.advance(5);
    let q4 = b.sent();
    b.reply(&q4, |f| f.rcode(2));
    assert_eq!(b.addrs(), [IpAddr::V6(v6(2))]);
}

#[test]
fn negative_first_family_is_not_a_partial_answer() {
    let mut b = bench(NS, "");
    let [q6, q4] = dual(&mut b, "v4.example", true);
    b.reply(&q6, |f| f.soa("example", 60, 60));
    assert!(b.r.poll_partial().is_none());
    b.reply(&q4, |f| f.a("v4.example", 60, v4(3)));
    assert!(b.r.poll_partial().is_none());
    assert_eq!(b.addrs(), [IpAddr::V4(v4(3))]);
}

#[test]
fn plain_lookups_and_hosts_entries_give_no_partial_answer() {
    let mut b = bench(NS, "192.0.2.9 box.lan\n2001:db8::9 box.lan\n");
    let [_, q4] = dual(&mut b, "dual.example", false);
    b.reply(&q4, |f| f.a("dual.example", 60, v4(1)));
    assert!(b.r.poll_partial().is_none());
    b.r.lookup_with_partials("box.lan", FamilyPref::PreferV6, b.now);
    assert!(b.r.poll_partial().is_none());
    assert_eq!(b.addrs(), [IpAddr::V6(v6(9)), IpAddr::V4(v4(9))]);
}

#[test]
fn cancel_drops_a_queued_partial_answer() {
    let mut b = bench(NS, "");
    let [_, q4] = dual(&mut b, "dual.example", true);
    b.reply(&q4, |f| f.a("dual.example", 60, v4(1)));
    b.r.cancel(LookupId(1));
    assert!(b.r.poll_partial().is_none());
    assert!(b.r.poll_event().is_none());
}
