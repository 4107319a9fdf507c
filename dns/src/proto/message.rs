//! Messages: the header, the question and the records of a response, and
//! the encoding of a query (RFC 1035 §4.1).
//!
//! [`Message::parse`] checks the whole message once (every name, every
//! record's data against its type and length) and keeps only offsets; the
//! [`Records`] iterator then decodes one section lazily, so a response costs
//! no allocation. A message with the TC bit is only read up to its question
//! (RFC 2181 §9: its records must not be used). This module must not judge
//! whether a response answers a given query: the resolver does.

use super::{HEADER_LEN, Name, ProtoError, RType, Rcode, read_name};
use std::net::{Ipv4Addr, Ipv6Addr};

/// The Internet class.
pub const CLASS_IN: u16 = 1;
/// Bytes of a record after its owner name: type, class, TTL, data length.
const RR_FIXED: usize = 10;

/// The fixed header of a message (RFC 1035 §4.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The query id the response echoes.
    pub id: u16,
    /// Set in responses.
    pub qr: bool,
    /// The kind of query (0: standard).
    pub opcode: u8,
    /// Authoritative answer.
    pub aa: bool,
    /// Truncated: the answer did not fit and must be asked over TCP.
    pub tc: bool,
    /// Recursion desired.
    pub rd: bool,
    /// Recursion available.
    pub ra: bool,
    /// The response code.
    pub rcode: Rcode,
    /// Entries in the question section.
    pub qdcount: u16,
    /// Records in the answer section.
    pub ancount: u16,
    /// Records in the authority section.
    pub nscount: u16,
    /// Records in the additional section.
    pub arcount: u16,
}

impl Header {
    /// Reads the header at the start of `msg`.
    pub fn parse(msg: &[u8]) -> Result<Self, ProtoError> {
        let h = msg.get(..HEADER_LEN).ok_or(ProtoError::Truncated)?;
        let word = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
        Ok(Header {
            id: word(0),
            qr: h[2] & 0x80 != 0,
            opcode: (h[2] >> 3) & 0x0F,
            aa: h[2] & 0x04 != 0,
            tc: h[2] & 0x02 != 0,
            rd: h[2] & 0x01 != 0,
            ra: h[3] & 0x80 != 0,
            rcode: Rcode::from_code(h[3] & 0x0F),
            qdcount: word(4),
            ancount: word(6),
            nscount: word(8),
            arcount: word(10),
        })
    }
}

/// One entry of the question section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// The name asked about.
    pub name: Name,
    /// The type asked for.
    pub qtype: RType,
    /// The class asked for.
    pub qclass: u16,
}

/// The data of a record, for the types a stub resolver uses.
#[allow(
    clippy::large_enum_variant,
    reason = "names are inline arrays by design: decoding allocates nothing"
)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RData {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// The canonical name the owner is an alias of.
    Cname(Name),
    /// A zone's start of authority; `minimum` bounds negative caching
    /// (RFC 2308 §5).
    Soa {
        /// The zone's primary server.
        mname: Name,
        /// The zone's contact mailbox.
        rname: Name,
        /// The zone's serial and timers, then the negative-caching TTL.
        serial: u32,
        /// Refresh interval.
        refresh: u32,
        /// Retry interval.
        retry: u32,
        /// Expiry.
        expire: u32,
        /// The negative-caching TTL (RFC 2308 §4).
        minimum: u32,
    },
    /// Any other type, skipped.
    Other,
}

/// A resource record (RFC 1035 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The owner name.
    pub name: Name,
    /// The type.
    pub rtype: RType,
    /// The class.
    pub class: u16,
    /// Seconds the record may be cached; a value with the top bit set is
    /// read as 0 (RFC 2181 §8).
    pub ttl: u32,
    /// The data.
    pub data: RData,
}

/// The three record sections of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Answers to the question.
    Answer,
    /// Authority records (the SOA of a negative answer).
    Authority,
    /// Additional records.
    Additional,
}

/// A checked message: its header, first question, and where each record
/// section starts.
#[derive(Debug, Clone)]
pub struct Message<'a> {
    bytes: &'a [u8],
    /// The header.
    pub header: Header,
    /// The first question, if the message has one.
    pub question: Option<Question>,
    sections: [(usize, u16); 3],
}

impl<'a> Message<'a> {
    /// Checks `bytes` as a whole message. With TC set, only the header and
    /// the question are read and the record sections are empty.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ProtoError> {
        let header = Header::parse(bytes)?;
        let mut at = HEADER_LEN;
        let mut question = None;
        for _ in 0..header.qdcount {
            let (q, next) = read_question(bytes, at)?;
            question.get_or_insert(q);
            at = next;
        }
        let counts = [header.ancount, header.nscount, header.arcount];
        let mut sections = [(at, 0); 3];
        if !header.tc {
            for (slot, count) in sections.iter_mut().zip(counts) {
                if usize::from(count) * (RR_FIXED + 1) > bytes.len() - at.min(bytes.len()) {
                    return Err(ProtoError::BadCount(count));
                }
                *slot = (at, count);
                for _ in 0..count {
                    at = read_record(bytes, at)?.1;
                }
            }
        }
        Ok(Message {
            bytes,
            header,
            question,
            sections,
        })
    }

    /// The records of one section, decoded as they are iterated.
    pub fn records(&self, section: Section) -> Records<'a> {
        let (at, left) = self.sections[section as usize];
        Records {
            bytes: self.bytes,
            at,
            left,
        }
    }
}

/// Iterator over one section's records (checked by [`Message::parse`]).
#[derive(Debug, Clone)]
pub struct Records<'a> {
    bytes: &'a [u8],
    at: usize,
    left: u16,
}

impl Iterator for Records<'_> {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        self.left = self.left.checked_sub(1)?;
        let (record, next) = read_record(self.bytes, self.at).ok()?;
        self.at = next;
        Some(record)
    }
}

fn u16_at(msg: &[u8], at: usize) -> Result<u16, ProtoError> {
    let b = msg.get(at..at + 2).ok_or(ProtoError::Truncated)?;
    Ok(u16::from_be_bytes([b[0], b[1]]))
}

fn u32_at(msg: &[u8], at: usize) -> Result<u32, ProtoError> {
    let b = msg.get(at..at + 4).ok_or(ProtoError::Truncated)?;
    Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn read_question(msg: &[u8], at: usize) -> Result<(Question, usize), ProtoError> {
    let (name, at) = read_name(msg, at)?;
    let qtype = RType::from_code(u16_at(msg, at)?);
    let qclass = u16_at(msg, at + 2)?;
    Ok((
        Question {
            name,
            qtype,
            qclass,
        },
        at + 4,
    ))
}

fn read_record(msg: &[u8], at: usize) -> Result<(Record, usize), ProtoError> {
    let (name, at) = read_name(msg, at)?;
    let code = u16_at(msg, at)?;
    let class = u16_at(msg, at + 2)?;
    let ttl = u32_at(msg, at + 4)?;
    let len = u16_at(msg, at + 8)?;
    let start = at + RR_FIXED;
    let end = start + usize::from(len);
    if end > msg.len() {
        return Err(ProtoError::Truncated);
    }
    let rtype = RType::from_code(code);
    let data = read_rdata(msg, rtype, start, end).map_err(|e| match e {
        ProtoError::Truncated => ProtoError::BadRData { rtype: code, len },
        e => e,
    })?;
    let ttl = if ttl > i32::MAX as u32 { 0 } else { ttl };
    Ok((
        Record {
            name,
            rtype,
            class,
            ttl,
            data,
        },
        end,
    ))
}

fn read_rdata(msg: &[u8], rtype: RType, start: usize, end: usize) -> Result<RData, ProtoError> {
    // Names inside the data may point anywhere before them but must not
    // read past the data's own end.
    let within = &msg[..end];
    let (data, used) = match rtype {
        RType::A => {
            let b: [u8; 4] = within
                .get(start..end)
                .and_then(|b| b.try_into().ok())
                .ok_or(ProtoError::Truncated)?;
            (RData::A(Ipv4Addr::from(b)), end)
        }
        RType::Aaaa => {
            let b: [u8; 16] = within
                .get(start..end)
                .and_then(|b| b.try_into().ok())
                .ok_or(ProtoError::Truncated)?;
            (RData::Aaaa(Ipv6Addr::from(b)), end)
        }
        RType::Cname => {
            let (name, next) = read_name(within, start)?;
            (RData::Cname(name), next)
        }
        RType::Soa => read_soa(within, start)?,
        RType::Other(_) => (RData::Other, end),
    };
    if used != end {
        return Err(ProtoError::Truncated);
    }
    Ok(data)
}

fn read_soa(msg: &[u8], at: usize) -> Result<(RData, usize), ProtoError> {
    let (mname, at) = read_name(msg, at)?;
    let (rname, at) = read_name(msg, at)?;
    let n = |i: usize| u32_at(msg, at + 4 * i);
    let data = RData::Soa {
        mname,
        rname,
        serial: n(0)?,
        refresh: n(1)?,
        retry: n(2)?,
        expire: n(3)?,
        minimum: n(4)?,
    };
    Ok((data, at + 20))
}

/// Appends a standard recursive query for `name`/`qtype` in class IN with
/// id `id` to `out` (RFC 1035 §4.1; RD set, one question).
pub fn encode_query(id: u16, name: &Name, qtype: RType, out: &mut Vec<u8>) {
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&[0x01, 0x00]); // RD
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    out.extend_from_slice(name.wire());
    out.extend_from_slice(&qtype.code().to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
}
