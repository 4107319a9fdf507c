//! One table row per rule the codec enforces, plus round trips and
//! arbitrary splits.

use super::*;

fn decode_all(bytes: &[u8]) -> Result<Vec<Packet>, DecodeError> {
    let mut d = Decoder::new(1 << 20);
    d.feed(bytes);
    let mut out = Vec::new();
    while let Some(p) = d.next_packet()? {
        out.push(p);
    }
    Ok(out)
}

fn enc(p: &Packet) -> Vec<u8> {
    let mut v = Vec::new();
    encode(p, &mut v).expect("encodable");
    v
}

fn samples() -> Vec<Packet> {
    vec![
        Packet::Connack {
            session_present: true,
            code: ConnectReturn::Accepted,
        },
        Packet::Connack {
            session_present: false,
            code: ConnectReturn::NotAuthorized,
        },
        Packet::Publish(Publish {
            dup: false,
            qos: QoS::AtMostOnce,
            retain: true,
            topic: "a/b".into(),
            packet_id: None,
            payload: b"hello".to_vec(),
        }),
        Packet::Publish(Publish {
            dup: true,
            qos: QoS::ExactlyOnce,
            retain: false,
            topic: "x".into(),
            packet_id: Some(65535),
            payload: vec![0; 300],
        }),
        Packet::Puback(1),
        Packet::Pubrec(2),
        Packet::Pubrel(3),
        Packet::Pubcomp(4),
        Packet::Subscribe {
            packet_id: 5,
            filters: vec![
                ("a/+".into(), QoS::AtLeastOnce),
                ("#".into(), QoS::ExactlyOnce),
            ],
        },
        Packet::Suback {
            packet_id: 5,
            codes: vec![SubackCode::Granted(QoS::AtLeastOnce), SubackCode::Failure],
        },
        Packet::Unsubscribe {
            packet_id: 6,
            filters: vec!["a/+".into()],
        },
        Packet::Unsuback(6),
        Packet::Pingreq,
        Packet::Pingresp,
        Packet::Disconnect,
    ]
}

#[test]
fn round_trip_every_packet_at_every_split() {
    for p in samples() {
        let bytes = enc(&p);
        assert_eq!(decode_all(&bytes), Ok(vec![p.clone()]));
        for cut in 0..bytes.len() {
            let mut d = Decoder::new(1 << 20);
            d.feed(&bytes[..cut]);
            assert_eq!(d.next_packet(), Ok(None), "{p:?} cut at {cut}");
            d.feed(&bytes[cut..]);
            assert_eq!(d.next_packet(), Ok(Some(p.clone())));
            assert_eq!(d.next_packet(), Ok(None));
        }
    }
}

#[test]
fn many_packets_in_one_read() {
    let mut bytes = Vec::new();
    for p in samples() {
        encode(&p, &mut bytes).expect("encodable");
    }
    assert_eq!(decode_all(&bytes), Ok(samples()));
}

#[test]
fn connect_encoding_matches_the_spec_example() {
    // 3.1.2.10: "MQTT", level 4, flags, keep-alive 10 s, then the payload.
    let c = Packet::Connect(Connect {
        client_id: "id".into(),
        keep_alive: 10,
        clean_session: true,
        will: Some(Will {
            topic: "w".into(),
            payload: b"bye".to_vec(),
            qos: QoS::AtLeastOnce,
            retain: true,
        }),
        username: Some("u".into()),
        password: Some(b"p".to_vec()),
    });
    let b = enc(&c);
    assert_eq!(&b[..2], &[0x10, (b.len() - 2) as u8]);
    assert_eq!(&b[2..9], &[0, 4, b'M', b'Q', b'T', b'T', 4]);
    assert_eq!(b[9], 0x80 | 0x40 | 0x20 | 0x08 | 0x04 | 0x02);
    assert_eq!(&b[10..12], &[0, 10]);
}

#[test]
fn remaining_length_boundaries() {
    // 2.2.3: 127 -> 1 byte, 128 -> 2, 16,383 -> 2, 16,384 -> 3.
    for (n, header) in [(124usize, 2usize), (125, 3), (16_380, 3), (16_381, 4)] {
        let p = Packet::Publish(Publish {
            dup: false,
            qos: QoS::AtMostOnce,
            retain: false,
            topic: "t".into(),
            packet_id: None,
            payload: vec![7; n],
        });
        let b = enc(&p);
        assert_eq!(b.len() - (3 + n), header, "payload {n}");
        assert_eq!(decode_all(&b), Ok(vec![p]));
    }
}

#[test]
fn rejects_rule_violations() {
    let cases: &[(&[u8], DecodeError)] = &[
        // 2.2.3: a fifth length byte.
        (
            &[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
            DecodeError::BadRemainingLength,
        ),
        // Reserved types 0 and 15.
        (&[0x00, 0x00], DecodeError::ReservedType(0)),
        (&[0xF0, 0x00], DecodeError::ReservedType(15)),
        // 2.2.2: fixed flags.
        (
            &[0x41, 0x02, 0, 1],
            DecodeError::BadFlags { kind: 4, flags: 1 },
        ),
        (
            &[0x60, 0x02, 0, 1],
            DecodeError::BadFlags { kind: 6, flags: 0 },
        ),
        (&[0xD1, 0x00], DecodeError::BadFlags { kind: 13, flags: 1 }),
        // 3.3.1-2: DUP set on a QoS 0 PUBLISH.
        (
            &[0x38, 0x03, 0, 1, b't'],
            DecodeError::BadFlags { kind: 3, flags: 8 },
        ),
        // 3.3.1-4: QoS 3.
        (&[0x36, 0x05, 0, 1, b't', 0, 1], DecodeError::BadQos),
        // 3.3.2-2: wildcard in a PUBLISH topic.
        (&[0x30, 0x03, 0, 1, b'+'], DecodeError::BadTopic),
        (&[0x30, 0x02, 0, 0], DecodeError::BadTopic),
        // 1.5.3: invalid UTF-8 and U+0000.
        (&[0x30, 0x03, 0, 1, 0xFF], DecodeError::BadUtf8),
        (&[0x30, 0x03, 0, 1, 0x00], DecodeError::BadUtf8),
        // 2.3.1-1: packet id 0.
        (&[0x32, 0x05, 0, 1, b't', 0, 0], DecodeError::ZeroPacketId),
        (&[0x40, 0x02, 0, 0], DecodeError::ZeroPacketId),
        // Fixed-size packets with the wrong size.
        (&[0x40, 0x03, 0, 1, 0], DecodeError::BadLength("PUBACK")),
        (&[0xD0, 0x01, 0], DecodeError::BadLength("PINGRESP")),
        (&[0x20, 0x03, 0, 0, 0], DecodeError::BadLength("CONNACK")),
        // 3.2.2.1 / 3.2.2.3 / 3.2.2-4.
        (
            &[0x20, 0x02, 0x02, 0],
            DecodeError::BadConnack("reserved acknowledge flags set (3.2.2.1)"),
        ),
        (
            &[0x20, 0x02, 0, 6],
            DecodeError::BadConnack("unknown return code (3.2.2.3)"),
        ),
        (
            &[0x20, 0x02, 1, 5],
            DecodeError::BadConnack("session present with a refusal (3.2.2-4)"),
        ),
        // 3.9.3: SUBACK codes.
        (&[0x90, 0x03, 0, 1, 3], DecodeError::BadSubackCode(3)),
        (
            &[0x90, 0x02, 0, 1],
            DecodeError::BadLength("SUBACK without return codes"),
        ),
        // A string longer than the packet.
        (
            &[0x30, 0x03, 0, 9, b't'],
            DecodeError::BadLength("PUBLISH topic"),
        ),
    ];
    for (bytes, want) in cases {
        assert_eq!(decode_all(bytes).as_ref(), Err(want), "{bytes:02x?}");
    }
}

#[test]
fn size_limit_is_checked_from_the_header() {
    let mut d = Decoder::new(100);
    // Header announcing 2,000,000 bytes: refused before they arrive.
    d.feed(&[0x30, 0x80, 0x89, 0x7A]);
    assert!(matches!(d.next_packet(), Err(DecodeError::TooLarge { .. })));
}

#[test]
fn encoder_refuses_what_the_wire_cannot_carry() {
    let bad_topic = Packet::Publish(Publish {
        dup: false,
        qos: QoS::AtMostOnce,
        retain: false,
        topic: "a/#".into(),
        packet_id: None,
        payload: vec![],
    });
    assert_eq!(
        encode(&bad_topic, &mut Vec::new()),
        Err(EncodeError::BadTopic)
    );
    let no_id = Packet::Publish(Publish {
        dup: false,
        qos: QoS::AtLeastOnce,
        retain: false,
        topic: "a".into(),
        packet_id: None,
        payload: vec![],
    });
    assert_eq!(encode(&no_id, &mut Vec::new()), Err(EncodeError::PacketId));
    let long = Packet::Unsubscribe {
        packet_id: 1,
        filters: vec!["x".repeat(70_000)],
    };
    assert_eq!(
        encode(&long, &mut Vec::new()),
        Err(EncodeError::TooLong("topic filter"))
    );
    let none = Packet::Subscribe {
        packet_id: 1,
        filters: vec![],
    };
    assert_eq!(encode(&none, &mut Vec::new()), Err(EncodeError::NoFilters));
}
