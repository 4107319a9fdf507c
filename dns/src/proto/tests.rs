//! Codec tests, one table row or test per RFC rule the codec enforces.

use super::forge::Forge;
use super::*;
use std::net::{Ipv4Addr, Ipv6Addr};

fn name(s: &str) -> Name {
    Name::from_dotted(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// RFC 1035 §2.3.4 (sizes) and §3.1 (label syntax) on names built from text.
#[test]
fn rfc1035_2_3_4_name_limits_from_text() {
    let l63 = "a".repeat(63);
    let l64 = "a".repeat(64);
    let long = [l63.as_str(); 4].join("."); // 4*64 + 1 = 257 bytes
    let fits = format!("{}.{}", [l63.as_str(); 3].join("."), "a".repeat(61)); // 255
    let table: &[(&str, Result<usize, ProtoError>)] = &[
        ("example.com", Ok(13)),
        ("example.com.", Ok(13)),
        ("", Ok(1)),
        (".", Ok(1)),
        ("a..b", Err(ProtoError::EmptyLabel)),
        (".a", Err(ProtoError::EmptyLabel)),
        (&l63, Ok(65)),
        (&l64, Err(ProtoError::LabelTooLong(64))),
        (&long, Err(ProtoError::NameTooLong)),
        (&fits, Ok(255)),
    ];
    for (text, want) in table {
        let got = Name::from_dotted(text).map(|n| n.wire().len());
        assert_eq!(&got, want, "{text:?}");
    }
}

/// RFC 4343: names compare ASCII case-insensitively.
#[test]
fn rfc4343_case_insensitive_compare() {
    assert_eq!(name("WwW.Example.COM"), name("www.example.com."));
    assert_ne!(name("www.example.com"), name("www.example.org"));
    assert_eq!(name("Www.Example.com").to_string(), "Www.Example.com");
}

/// RFC 1035 §4.1.4 compression, with the pointer rules the reader enforces.
#[test]
fn rfc1035_4_1_4_compression_pointers() {
    // offset 0: 3www 7example 3com 0 ; offset 17: pointer to 4 ; offset 19: 1a + pointer to 0
    let mut msg = b"\x03www\x07example\x03com\x00".to_vec();
    msg.extend_from_slice(&[0xC0, 4, 1, b'a', 0xC0, 0]);
    type Row<'a> = (&'a [u8], usize, Result<(&'a str, usize), ProtoError>);
    let table: &[Row] = &[
        (&msg, 0, Ok(("www.example.com", 17))),
        (&msg, 17, Ok(("example.com", 19))),
        (&msg, 19, Ok(("a.www.example.com", 23))),
        (b"\xC0\x00", 0, Err(ProtoError::BadPointer(0))), // points at itself
        (b"\x00\xC0\x03\xC0\x01", 3, Err(ProtoError::BadPointer(1))), // back, then forwards
        (b"\x01a\xC0", 0, Err(ProtoError::Truncated)),
        (b"\x05ab", 0, Err(ProtoError::Truncated)),
        (b"\x40abc", 0, Err(ProtoError::BadLabelType(0x40))), // RFC 6891 ext. label
        (b"\x80abc", 0, Err(ProtoError::BadLabelType(0x80))),
    ];
    for (bytes, at, want) in table {
        let got = read_name(bytes, *at).map(|(n, end)| (n.to_string(), end));
        let want = want.map(|(s, end)| (s.to_string(), end));
        assert_eq!(got, want, "{bytes:?} at {at}");
    }
}

/// RFC 1035 §2.3.4: a name assembled from pointers is still at most 255
/// bytes; each hop back is allowed but the total is checked.
#[test]
fn rfc1035_2_3_4_compressed_name_too_long() {
    let mut msg = Vec::new();
    let mut prev: Option<usize> = None;
    for _ in 0..5 {
        let at = msg.len();
        msg.push(63);
        msg.extend_from_slice(&[b'x'; 63]);
        match prev {
            Some(p) => msg.extend_from_slice(&[0xC0 | (p >> 8) as u8, p as u8]),
            None => msg.push(0),
        }
        prev = Some(at);
    }
    let last = prev.unwrap_or(0);
    assert_eq!(
        read_name(&msg, last).map(|_| ()),
        Err(ProtoError::NameTooLong)
    );
}

/// RFC 1035 §4.1.1 header fields and §4.1.2 question, encoded then parsed.
#[test]
fn rfc1035_4_1_query_round_trip() {
    let mut out = Vec::new();
    encode_query(0xBEEF, &name("example.com"), RType::Aaaa, &mut out);
    let m = Message::parse(&out).expect("query parses");
    assert_eq!(m.header.id, 0xBEEF);
    assert!(!m.header.qr && m.header.rd && !m.header.tc);
    assert_eq!(m.header.qdcount, 1);
    let q = m.question.expect("question");
    assert_eq!(
        (q.name, q.qtype, q.qclass),
        (name("example.com"), RType::Aaaa, CLASS_IN)
    );
}

/// RFC 1035 §3.4.1 / RFC 3596 / §3.3.1 record data of the types used.
#[test]
fn rfc1035_3_record_data_decoded() {
    let v6 = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
    let bytes = Forge::response(7, "www.example.com", RType::A)
        .cname("www.example.com", 60, "web.example.com")
        .a("web.example.com", 30, Ipv4Addr::new(192, 0, 2, 1))
        .aaaa("web.example.com", 30, v6)
        .soa("example.com", 900, 300)
        .build();
    let m = Message::parse(&bytes).expect("parses");
    assert!(m.header.qr);
    assert_eq!(m.header.rcode, Rcode::NoError);
    let data: Vec<_> = m.records(Section::Answer).map(|r| r.data).collect();
    assert_eq!(
        data,
        [
            RData::Cname(name("web.example.com")),
            RData::A(Ipv4Addr::new(192, 0, 2, 1)),
            RData::Aaaa(v6)
        ]
    );
    let soa = m.records(Section::Authority).next().expect("soa");
    assert!(matches!(soa.data, RData::Soa { minimum: 300, .. }));
    assert_eq!(soa.ttl, 900);
}

/// Record data whose length does not fit its type is refused.
#[test]
fn rfc1035_3_2_1_rdlength_must_match_type() {
    let good = Forge::response(1, "a.example", RType::A)
        .a("a.example", 5, Ipv4Addr::LOCALHOST)
        .build();
    let at = good.len() - 6; // the RDLENGTH of the A record
    for (len, extra) in [(3u16, 0usize), (5, 1)] {
        let mut bad = good[..at].to_vec();
        bad.extend_from_slice(&len.to_be_bytes());
        bad.extend_from_slice(&[127, 0, 0, 1, 0][..4 + extra - usize::from(len == 3)]);
        assert_eq!(
            Message::parse(&bad).map(|_| ()),
            Err(ProtoError::BadRData { rtype: 1, len })
        );
    }
    let mut short = good.clone();
    short.pop();
    assert_eq!(
        Message::parse(&short).map(|_| ()),
        Err(ProtoError::Truncated)
    );
}

/// RFC 2181 §8: a TTL with the top bit set is read as zero.
#[test]
fn rfc2181_8_ttl_top_bit_means_zero() {
    let bytes = Forge::response(1, "a.example", RType::A)
        .a("a.example", 0x8000_0001, Ipv4Addr::LOCALHOST)
        .build();
    let m = Message::parse(&bytes).expect("parses");
    assert_eq!(m.records(Section::Answer).next().map(|r| r.ttl), Some(0));
}

/// RFC 2181 §9: a truncated message's records are not read (so a message
/// cut inside a record still yields its header and question).
#[test]
fn rfc2181_9_truncated_message_header_only() {
    let mut bytes = Forge::response(9, "big.example", RType::A)
        .truncated()
        .a("big.example", 5, Ipv4Addr::LOCALHOST)
        .build();
    bytes.truncate(bytes.len() - 3);
    let m = Message::parse(&bytes).expect("parses");
    assert!(m.header.tc);
    assert_eq!(m.records(Section::Answer).count(), 0);
    assert_eq!(m.question.map(|q| q.name), Some(name("big.example")));
}

/// RFC 1035 §4.1.1: the RCODE values a resolver acts on.
#[test]
fn rfc1035_4_1_1_rcodes() {
    let table = [
        (0, Rcode::NoError),
        (1, Rcode::FormErr),
        (2, Rcode::ServFail),
        (3, Rcode::NxDomain),
        (4, Rcode::NotImp),
        (5, Rcode::Refused),
        (9, Rcode::Other(9)),
    ];
    for (code, want) in table {
        let bytes = Forge::response(1, "x.example", RType::A)
            .rcode(code)
            .build();
        assert_eq!(
            Message::parse(&bytes).map(|m| m.header.rcode),
            Ok(want),
            "rcode {code}"
        );
    }
}

/// Header counts larger than the message can hold are refused before any
/// record is read.
#[test]
fn counts_bounded_by_message_length() {
    let mut bytes = Forge::response(1, "x.example", RType::A).build();
    bytes[6..8].copy_from_slice(&0xFFFFu16.to_be_bytes());
    assert_eq!(
        Message::parse(&bytes).map(|_| ()),
        Err(ProtoError::BadCount(0xFFFF))
    );
    assert_eq!(
        Message::parse(&[0; 11]).map(|_| ()),
        Err(ProtoError::Truncated)
    );
}
