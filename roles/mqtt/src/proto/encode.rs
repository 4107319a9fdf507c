//! Packet -> bytes (MQTT 3.1.1 section 2 and 3).

use super::MAX_REMAINING;
use super::packet::{Packet, QoS, SubackCode};

/// A packet that cannot be put on the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("{0} is longer than 65,535 bytes")]
    TooLong(&'static str),
    #[error("packet larger than MQTT's 268,435,455-byte limit")]
    PacketTooLarge,
    #[error("a QoS 1/2 PUBLISH needs a non-zero packet identifier (and QoS 0 none)")]
    PacketId,
    #[error("topic names must not be empty or contain wildcards or NUL")]
    BadTopic,
    #[error("SUBSCRIBE/UNSUBSCRIBE need at least one topic filter")]
    NoFilters,
}

fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn put_bytes(out: &mut Vec<u8>, what: &'static str, b: &[u8]) -> Result<(), EncodeError> {
    let n = u16::try_from(b.len()).map_err(|_| EncodeError::TooLong(what))?;
    put_u16(out, n);
    out.extend_from_slice(b);
    Ok(())
}

/// A topic name a PUBLISH may carry (4.7.3, 4.7.1).
pub(crate) fn valid_topic_name(t: &str) -> bool {
    !t.is_empty() && !t.contains(['+', '#', '\0'])
}

fn put_remaining(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let mut b = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            b |= 0x80;
        }
        out.push(b);
        if n == 0 {
            break;
        }
    }
}

/// Append the encoding of `p` to `out`.
pub fn encode(p: &Packet, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let mut body = Vec::new();
    let first: u8 = match p {
        Packet::Connect(c) => {
            put_bytes(&mut body, "protocol name", b"MQTT")?;
            body.push(4); // protocol level 3.1.1
            let mut flags = 0u8;
            if c.clean_session {
                flags |= 0x02;
            }
            if let Some(w) = &c.will {
                flags |= 0x04 | ((w.qos as u8) << 3);
                if w.retain {
                    flags |= 0x20;
                }
            }
            if c.password.is_some() {
                flags |= 0x40;
            }
            if c.username.is_some() {
                flags |= 0x80;
            }
            body.push(flags);
            put_u16(&mut body, c.keep_alive);
            put_bytes(&mut body, "client identifier", c.client_id.as_bytes())?;
            if let Some(w) = &c.will {
                if !valid_topic_name(&w.topic) {
                    return Err(EncodeError::BadTopic);
                }
                put_bytes(&mut body, "will topic", w.topic.as_bytes())?;
                put_bytes(&mut body, "will message", &w.payload)?;
            }
            if let Some(u) = &c.username {
                put_bytes(&mut body, "user name", u.as_bytes())?;
            }
            if let Some(pw) = &c.password {
                put_bytes(&mut body, "password", pw)?;
            }
            0x10
        }
        Packet::Connack {
            session_present,
            code,
        } => {
            body.push(u8::from(*session_present));
            body.push(code.code());
            0x20
        }
        Packet::Publish(pb) => {
            if !valid_topic_name(&pb.topic) {
                return Err(EncodeError::BadTopic);
            }
            put_bytes(&mut body, "topic name", pb.topic.as_bytes())?;
            match (pb.qos, pb.packet_id) {
                (QoS::AtMostOnce, None) => {}
                (QoS::AtLeastOnce | QoS::ExactlyOnce, Some(id)) if id != 0 => {
                    put_u16(&mut body, id)
                }
                _ => return Err(EncodeError::PacketId),
            }
            body.extend_from_slice(&pb.payload);
            0x30 | (u8::from(pb.dup) << 3) | ((pb.qos as u8) << 1) | u8::from(pb.retain)
        }
        Packet::Puback(id) => ack(&mut body, *id, 0x40),
        Packet::Pubrec(id) => ack(&mut body, *id, 0x50),
        Packet::Pubrel(id) => ack(&mut body, *id, 0x62),
        Packet::Pubcomp(id) => ack(&mut body, *id, 0x70),
        Packet::Subscribe { packet_id, filters } => {
            if filters.is_empty() {
                return Err(EncodeError::NoFilters);
            }
            put_u16(&mut body, *packet_id);
            for (f, q) in filters {
                put_bytes(&mut body, "topic filter", f.as_bytes())?;
                body.push(*q as u8);
            }
            0x82
        }
        Packet::Suback { packet_id, codes } => {
            put_u16(&mut body, *packet_id);
            for c in codes {
                body.push(match c {
                    SubackCode::Granted(q) => *q as u8,
                    SubackCode::Failure => 0x80,
                });
            }
            0x90
        }
        Packet::Unsubscribe { packet_id, filters } => {
            if filters.is_empty() {
                return Err(EncodeError::NoFilters);
            }
            put_u16(&mut body, *packet_id);
            for f in filters {
                put_bytes(&mut body, "topic filter", f.as_bytes())?;
            }
            0xA2
        }
        Packet::Unsuback(id) => ack(&mut body, *id, 0xB0),
        Packet::Pingreq => 0xC0,
        Packet::Pingresp => 0xD0,
        Packet::Disconnect => 0xE0,
    };
    if body.len() > MAX_REMAINING {
        return Err(EncodeError::PacketTooLarge);
    }
    out.push(first);
    put_remaining(out, body.len());
    out.extend_from_slice(&body);
    Ok(())
}

fn ack(body: &mut Vec<u8>, id: u16, first: u8) -> u8 {
    put_u16(body, id);
    first
}
