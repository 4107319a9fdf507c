//! Bytes -> packets, incrementally, with a size bound. Every check names
//! the rule of MQTT 3.1.1 it enforces.

use super::MAX_REMAINING;
use super::encode::valid_topic_name;
use super::packet::{ConnectReturn, Packet, Publish, QoS, SubackCode};

/// Why the byte stream is not valid MQTT. Any of these ends the connection
/// (4.8: "the receiver MUST close the Network Connection").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("remaining length longer than 4 bytes (2.2.3)")]
    BadRemainingLength,
    #[error("packet of {size} bytes exceeds the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("reserved packet type {0}")]
    ReservedType(u8),
    #[error("wrong fixed-header flags {flags:#x} for packet type {kind} (2.2.2)")]
    BadFlags { kind: u8, flags: u8 },
    #[error("invalid QoS 3 (3.3.1-4)")]
    BadQos,
    #[error("{0} has the wrong length")]
    BadLength(&'static str),
    #[error("string is not well-formed UTF-8 or contains U+0000 (1.5.3)")]
    BadUtf8,
    #[error("PUBLISH topic name is empty or has wildcards (3.3.2-2)")]
    BadTopic,
    #[error("packet identifier 0 (2.3.1-1)")]
    ZeroPacketId,
    #[error("CONNACK: {0}")]
    BadConnack(&'static str),
    #[error("SUBACK return code {0:#x} is not 0, 1, 2 or 0x80 (3.9.3)")]
    BadSubackCode(u8),
    #[error("{0} packets are not decoded by a client")]
    Unsupported(&'static str),
}

/// An incremental decoder: [`Decoder::feed`] bytes as they arrive, then
/// take packets with [`Decoder::next_packet`] until it returns `Ok(None)`.
#[derive(Debug)]
pub struct Decoder {
    buf: Vec<u8>,
    pos: usize,
    max_packet: usize,
}

impl Decoder {
    /// A decoder refusing packets larger than `max_packet` bytes in total.
    pub fn new(max_packet: usize) -> Self {
        Decoder {
            buf: Vec::new(),
            pos: 0,
            max_packet: max_packet.min(MAX_REMAINING + 5),
        }
    }

    pub fn feed(&mut self, data: &[u8]) {
        if self.pos > 0 && self.pos * 2 >= self.buf.len() {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// Bytes received but not yet decoded.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The next whole packet, `Ok(None)` when more bytes are needed.
    pub fn next_packet(&mut self) -> Result<Option<Packet>, DecodeError> {
        let data = &self.buf[self.pos..];
        let Some((remaining, header_len)) = remaining_length(data)? else {
            return Ok(None);
        };
        let total = header_len + remaining;
        if total > self.max_packet {
            return Err(DecodeError::TooLarge {
                size: total,
                limit: self.max_packet,
            });
        }
        if data.len() < total {
            return Ok(None);
        }
        let p = parse(data[0], &data[header_len..total])?;
        self.pos += total;
        Ok(Some(p))
    }
}

/// (remaining length, bytes of fixed header) once the header is complete.
fn remaining_length(data: &[u8]) -> Result<Option<(usize, usize)>, DecodeError> {
    let mut value = 0usize;
    for i in 0..4 {
        let Some(&b) = data.get(1 + i) else {
            return Ok(None);
        };
        value |= usize::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(Some((value, 2 + i)));
        }
    }
    Err(DecodeError::BadRemainingLength)
}

struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        let (&v, rest) = self.b.split_first().ok_or(DecodeError::BadLength(what))?;
        self.b = rest;
        Ok(v)
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes([self.u8(what)?, self.u8(what)?]))
    }

    fn bytes(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let n = usize::from(self.u16(what)?);
        if self.b.len() < n {
            return Err(DecodeError::BadLength(what));
        }
        let (v, rest) = self.b.split_at(n);
        self.b = rest;
        Ok(v)
    }

    fn string(&mut self, what: &'static str) -> Result<String, DecodeError> {
        let s = std::str::from_utf8(self.bytes(what)?).map_err(|_| DecodeError::BadUtf8)?;
        if s.contains('\0') {
            return Err(DecodeError::BadUtf8);
        }
        Ok(s.to_owned())
    }

    fn packet_id(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        match self.u16(what)? {
            0 => Err(DecodeError::ZeroPacketId),
            id => Ok(id),
        }
    }

    fn end(&self, what: &'static str) -> Result<(), DecodeError> {
        if self.b.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::BadLength(what))
        }
    }
}

fn parse(first: u8, body: &[u8]) -> Result<Packet, DecodeError> {
    let (kind, flags) = (first >> 4, first & 0x0F);
    // 2.2.2: flags are fixed for every type but PUBLISH.
    let want = match kind {
        0 | 15 => return Err(DecodeError::ReservedType(kind)),
        3 => None,
        6 | 8 | 10 => Some(0b0010),
        _ => Some(0),
    };
    if want.is_some_and(|w| w != flags) {
        return Err(DecodeError::BadFlags { kind, flags });
    }
    let mut r = Reader { b: body };
    let p = match kind {
        1 => return Err(DecodeError::Unsupported("CONNECT")),
        2 => {
            let ack = r.u8("CONNACK")?;
            let code = r.u8("CONNACK")?;
            r.end("CONNACK")?;
            if ack & 0xFE != 0 {
                return Err(DecodeError::BadConnack(
                    "reserved acknowledge flags set (3.2.2.1)",
                ));
            }
            let code = ConnectReturn::from_code(code)
                .ok_or(DecodeError::BadConnack("unknown return code (3.2.2.3)"))?;
            let session_present = ack & 1 == 1;
            if session_present && code != ConnectReturn::Accepted {
                return Err(DecodeError::BadConnack(
                    "session present with a refusal (3.2.2-4)",
                ));
            }
            Packet::Connack {
                session_present,
                code,
            }
        }
        3 => {
            let qos = QoS::from_bits((flags >> 1) & 3).ok_or(DecodeError::BadQos)?;
            if qos == QoS::AtMostOnce && flags & 0x08 != 0 {
                return Err(DecodeError::BadFlags { kind, flags }); // 3.3.1-2: DUP with QoS 0
            }
            let topic = r.string("PUBLISH topic")?;
            if !valid_topic_name(&topic) {
                return Err(DecodeError::BadTopic);
            }
            let packet_id = match qos {
                QoS::AtMostOnce => None,
                _ => Some(r.packet_id("PUBLISH")?),
            };
            Packet::Publish(Publish {
                dup: flags & 0x08 != 0,
                qos,
                retain: flags & 1 != 0,
                topic,
                packet_id,
                payload: r.b.to_vec(),
            })
        }
        4 | 5 | 6 | 7 | 11 => {
            let what = [
                "PUBACK", "PUBREC", "PUBREL", "PUBCOMP", "", "", "", "UNSUBACK",
            ][usize::from(kind - 4)];
            let id = r.packet_id(what)?;
            r.end(what)?;
            match kind {
                4 => Packet::Puback(id),
                5 => Packet::Pubrec(id),
                6 => Packet::Pubrel(id),
                7 => Packet::Pubcomp(id),
                _ => Packet::Unsuback(id),
            }
        }
        8 => {
            let packet_id = r.packet_id("SUBSCRIBE")?;
            let mut filters = Vec::new();
            while !r.b.is_empty() {
                let f = r.string("SUBSCRIBE filter")?;
                let q = r.u8("SUBSCRIBE QoS")?;
                let q = if q & 0xFC == 0 {
                    QoS::from_bits(q)
                } else {
                    None
                };
                filters.push((f, q.ok_or(DecodeError::BadQos)?));
            }
            if filters.is_empty() {
                return Err(DecodeError::BadLength(
                    "SUBSCRIBE without filters (3.8.3-3)",
                ));
            }
            Packet::Subscribe { packet_id, filters }
        }
        9 => {
            let packet_id = r.packet_id("SUBACK")?;
            let mut codes = Vec::with_capacity(r.b.len());
            for &c in r.b {
                codes.push(match c {
                    0x80 => SubackCode::Failure,
                    c => {
                        SubackCode::Granted(QoS::from_bits(c).ok_or(DecodeError::BadSubackCode(c))?)
                    }
                });
            }
            if codes.is_empty() {
                return Err(DecodeError::BadLength("SUBACK without return codes"));
            }
            Packet::Suback { packet_id, codes }
        }
        10 => {
            let packet_id = r.packet_id("UNSUBSCRIBE")?;
            let mut filters = Vec::new();
            while !r.b.is_empty() {
                filters.push(r.string("UNSUBSCRIBE filter")?);
            }
            if filters.is_empty() {
                return Err(DecodeError::BadLength(
                    "UNSUBSCRIBE without filters (3.10.3-2)",
                ));
            }
            Packet::Unsubscribe { packet_id, filters }
        }
        12..=14 => {
            r.end(["PINGREQ", "PINGRESP", "DISCONNECT"][usize::from(kind - 12)])?;
            match kind {
                12 => Packet::Pingreq,
                13 => Packet::Pingresp,
                _ => Packet::Disconnect,
            }
        }
        _ => return Err(DecodeError::ReservedType(kind)),
    };
    Ok(p)
}
