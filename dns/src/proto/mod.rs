//! The DNS wire format (RFC 1035 §4), as far as a stub resolver needs it:
//! encoding a query and decoding an answer. Pure functions over `&[u8]`, in
//! the shape of httparse: bytes in, typed values or a [`ProtoError`] out.
//!
//! Why not `hickory-proto`: it is a full DNS library (DNSSEC, zones, dozens
//! of record types, its own async runtime glue) and pulls much of it in. A
//! stub resolver needs one query shape and five record types (A, AAAA,
//! CNAME, SOA, and "skip the rest"), so this codec is a few hundred lines
//! that are bounded (names at most 255 bytes, at most 64 compression
//! pointers, strictly backwards), allocate nothing per label (a [`Name`] is
//! a fixed array; records are read lazily by an iterator over the message),
//! are fuzzed (`fuzz/fuzz_targets/dns_message.rs`) and do no IO.
//!
//! This module must not know about sockets, clocks, caches or which answer
//! belongs to which lookup: that is the resolver's job.

#[cfg(test)]
pub(crate) mod forge;
mod message;
mod name;
#[cfg(test)]
mod tests;

pub use message::{
    CLASS_IN, Header, Message, Question, RData, Record, Records, Section, encode_query,
};
pub use name::{MAX_LABEL_LEN, MAX_NAME_LEN, MAX_POINTERS, Name, read_name};

/// Length of the fixed message header (RFC 1035 §4.1.1).
pub const HEADER_LEN: usize = 12;

/// A record type the resolver asks for or follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RType {
    /// IPv4 address (RFC 1035 §3.4.1).
    A,
    /// IPv6 address (RFC 3596).
    Aaaa,
    /// Canonical name (RFC 1035 §3.3.1).
    Cname,
    /// Start of authority (RFC 1035 §3.3.13).
    Soa,
    /// Any other type, kept by number.
    Other(u16),
}

impl RType {
    /// The type's number on the wire.
    pub fn code(self) -> u16 {
        match self {
            RType::A => 1,
            RType::Cname => 5,
            RType::Soa => 6,
            RType::Aaaa => 28,
            RType::Other(n) => n,
        }
    }

    /// The type for a number on the wire.
    pub fn from_code(code: u16) -> Self {
        match code {
            1 => RType::A,
            5 => RType::Cname,
            6 => RType::Soa,
            28 => RType::Aaaa,
            n => RType::Other(n),
        }
    }
}

/// The response code of a message (RFC 1035 §4.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rcode {
    /// No error.
    NoError,
    /// The server could not interpret the query.
    FormErr,
    /// The server failed.
    ServFail,
    /// The name does not exist (authoritative).
    NxDomain,
    /// The server does not support the query kind.
    NotImp,
    /// The server refuses to answer.
    Refused,
    /// Any other code.
    Other(u8),
}

impl Rcode {
    /// The code for the low four bits of the flags.
    pub fn from_code(code: u8) -> Self {
        match code {
            0 => Rcode::NoError,
            1 => Rcode::FormErr,
            2 => Rcode::ServFail,
            3 => Rcode::NxDomain,
            4 => Rcode::NotImp,
            5 => Rcode::Refused,
            n => Rcode::Other(n),
        }
    }
}

/// Why bytes are not a DNS message this codec accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtoError {
    /// The message ends inside a field.
    #[error("message truncated")]
    Truncated,
    /// A name has an empty label in the middle (`a..b`).
    #[error("empty label in a name")]
    EmptyLabel,
    /// A label is longer than 63 bytes.
    #[error("label of {0} bytes (at most 63)")]
    LabelTooLong(usize),
    /// A name is longer than 255 bytes in wire form.
    #[error("name longer than 255 bytes")]
    NameTooLong,
    /// A compression pointer that does not point strictly backwards, or one
    /// too many.
    #[error("bad compression pointer at offset {0}")]
    BadPointer(usize),
    /// A label type other than a plain label or a pointer (RFC 6891 §5).
    #[error("unsupported label type byte {0:#04x}")]
    BadLabelType(u8),
    /// A record's data does not fit its type or its stated length.
    #[error("record data of type {rtype} has a bad length {len}")]
    BadRData {
        /// The record type number.
        rtype: u16,
        /// The stated data length.
        len: u16,
    },
    /// A header count promises more entries than fit in the message.
    #[error("count {0} cannot fit in the message")]
    BadCount(u16),
}
