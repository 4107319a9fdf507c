//! Wire tests: retries across nameservers, rotate, TCP after TC=1, and
//! which responses are ignored (RFC 5452 §9.1), on a virtual clock with
//! hand-built answers.

use super::testbed::{NS, bench, v4};
use super::*;
use crate::proto::RType;
use crate::proto::forge::Forge;

const TWO: &str = "nameserver 192.0.2.53\nnameserver 198.51.100.53\noptions timeout:2 attempts:2\n";

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn retries_go_round_the_servers_then_time_out() {
    let mut b = bench(TWO, "");
    b.r.lookup("slow.example", FamilyPref::V4Only, b.now);
    let mut order = Vec::new();
    let mut sockets = Vec::new();
    for _ in 0..4 {
        let q = b.sent();
        assert_eq!(b.r.poll_timeout(), Some(b.now + Duration::from_secs(2)));
        order.push(q.0.server);
        sockets.push(q.0.socket);
        assert!(q.0.local_port >= 1024);
        b.advance(2);
    }
    let ns = [sa("192.0.2.53:53"), sa("198.51.100.53:53")];
    assert_eq!(order, [ns[0], ns[1], ns[0], ns[1]]);
    sockets.dedup();
    assert_eq!(sockets.len(), 4, "each try uses a fresh socket");
    let closed: Vec<_> = std::iter::from_fn(|| b.r.poll_close()).collect();
    assert_eq!(closed, sockets);
    assert_eq!(b.error(), DnsError::Timeout);
    assert_eq!(b.r.poll_timeout(), None);
}

#[test]
fn rotate_starts_each_query_at_the_next_server() {
    let mut b = bench(&format!("{TWO}options rotate\n"), "");
    let mut firsts = Vec::new();
    for name in ["a.example", "b.example", "c.example"] {
        b.r.lookup(name, FamilyPref::V4Only, b.now);
        firsts.push(b.sent().0.server.ip().to_string());
    }
    assert_eq!(firsts, ["192.0.2.53", "198.51.100.53", "192.0.2.53"]);
}

#[test]
fn servfail_moves_to_next_server_and_is_reported_last() {
    let mut b = bench(TWO, "");
    b.r.lookup("sf.example", FamilyPref::V4Only, b.now);
    let q = b.sent();
    b.reply(&q, |f| f.rcode(2));
    let q = b.sent();
    assert_eq!(q.0.server, sa("198.51.100.53:53"));
    b.reply(&q, |f| f.a("sf.example", 5, v4(1)));
    assert_eq!(b.addrs().len(), 1);
    b.r.lookup("sf2.example", FamilyPref::V4Only, b.now);
    for _ in 0..4 {
        let q = b.sent();
        b.reply(&q, |f| f.rcode(2));
    }
    assert_eq!(b.error(), DnsError::ServFail);
    b.r.lookup("ref.example", FamilyPref::V4Only, b.now);
    for _ in 0..4 {
        let q = b.sent();
        b.reply(&q, |f| f.rcode(5));
    }
    assert_eq!(b.error(), DnsError::Refused);
}

#[test]
fn truncated_answer_is_asked_again_over_tcp() {
    let mut b = bench(NS, "");
    b.r.lookup("big.example", FamilyPref::V4Only, b.now);
    let q = b.sent();
    b.reply(&q, |f| f.truncated());
    assert_eq!(b.r.poll_close(), Some(q.0.socket));
    let t = b.sent();
    assert_eq!(
        (t.0.proto, t.0.server, t.0.local_port),
        (Proto::Tcp, q.0.server, 0)
    );
    assert_eq!(
        usize::from(u16::from_be_bytes([t.0.bytes[0], t.0.bytes[1]])),
        t.0.bytes.len() - 2
    );
    let answer = Forge::response(t.1, "big.example", RType::A)
        .a("big.example", 60, v4(1))
        .a("big.example", 60, v4(2))
        .build();
    let mut framed = (answer.len() as u16).to_be_bytes().to_vec();
    framed.extend(answer);
    let (one, two) = framed.split_at(1);
    b.r.handle_udp(t.0.socket, t.0.server, &framed, b.now); // not a UDP socket now
    b.r.handle_tcp(t.0.socket, one, b.now);
    assert_eq!(b.r.poll_event(), None);
    b.r.handle_tcp(t.0.socket, two, b.now);
    assert_eq!(b.addrs().len(), 2);
    assert_eq!(b.r.poll_close(), Some(t.0.socket));
}

#[test]
fn tcp_failure_moves_to_the_next_try() {
    let mut b = bench(TWO, "");
    b.r.lookup("big.example", FamilyPref::V4Only, b.now);
    let q = b.sent();
    b.reply(&q, |f| f.truncated());
    let t = b.sent();
    b.r.handle_socket_error(t.0.socket, b.now);
    let next = b.sent();
    assert_eq!(
        (next.0.proto, next.0.server),
        (Proto::Udp, sa("198.51.100.53:53"))
    );
}

#[test]
fn rfc5452_mismatched_responses_are_ignored() {
    let mut b = bench(NS, "");
    b.r.lookup("m.example", FamilyPref::V4Only, b.now);
    let q = b.sent();
    let (t, id) = (&q.0, q.1);
    let good = |f: Forge| f.a("m.example", 60, v4(1));
    let cases: Vec<(SocketKey, SocketAddr, Vec<u8>)> = vec![
        (
            t.socket,
            t.server,
            good(Forge::response(id.wrapping_add(1), "m.example", RType::A)).build(),
        ),
        (
            t.socket,
            t.server,
            good(Forge::response(id, "x.example", RType::A)).build(),
        ),
        (
            t.socket,
            t.server,
            good(Forge::response(id, "m.example", RType::Aaaa)).build(),
        ),
        (
            t.socket,
            sa("203.0.113.1:53"),
            good(Forge::response(id, "m.example", RType::A)).build(),
        ),
        (
            t.socket,
            sa("192.0.2.53:5353"),
            good(Forge::response(id, "m.example", RType::A)).build(),
        ),
        (
            SocketKey(999),
            t.server,
            good(Forge::response(id, "m.example", RType::A)).build(),
        ),
        (t.socket, t.server, vec![0xFF; 5]),
    ];
    for (socket, from, bytes) in &cases {
        b.r.handle_udp(*socket, *from, bytes, b.now);
        assert_eq!(b.r.poll_event(), None, "{bytes:?} from {from}");
    }
    // A query (QR=0) echoed back is not an answer either.
    let mut echo = t.bytes.clone();
    echo[2] &= 0x7F;
    b.r.handle_udp(t.socket, t.server, &echo, b.now);
    assert_eq!(b.r.poll_event(), None);
    b.reply(&q, good);
    assert_eq!(b.addrs(), [IpAddr::V4(v4(1))]);
}

#[test]
fn malformed_answers_with_our_id_end_as_malformed_after_timeout() {
    let mut b = bench(NS, "");
    b.r.lookup("bad.example", FamilyPref::V4Only, b.now);
    for _ in 0..2 {
        let q = b.sent();
        let mut bytes = Forge::response(q.1, "bad.example", RType::A)
            .a("bad.example", 5, v4(1))
            .build();
        bytes.pop();
        b.r.handle_udp(q.0.socket, q.0.server, &bytes, b.now);
        assert_eq!(b.r.poll_event(), None);
        b.advance(5);
    }
    assert!(matches!(b.error(), DnsError::Malformed(_)));
}

#[test]
fn query_ids_and_ports_are_random_per_try() {
    let mut b = bench(TWO, "");
    let mut ids = Vec::new();
    let mut ports = Vec::new();
    for i in 0..8 {
        b.r.lookup(&format!("r{i}.example"), FamilyPref::V4Only, b.now);
        let q = b.sent();
        ids.push(q.1);
        ports.push(q.0.local_port);
    }
    ids.sort_unstable();
    ids.dedup();
    ports.sort_unstable();
    ports.dedup();
    assert!(ids.len() >= 7 && ports.len() >= 7, "{ids:?} {ports:?}");
}

#[test]
fn no_nameservers_left_means_timeout_at_once() {
    let mut b = bench(NS, "");
    b.r.transport.servers.clear();
    b.r.lookup("none.example", FamilyPref::V4Only, b.now);
    assert_eq!(b.error(), DnsError::Timeout);
}
