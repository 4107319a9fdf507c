//! What one response says about one question: addresses, an alias to
//! follow, or a negative answer with its cache lifetime (RFC 2308). Pure:
//! takes a checked [`Message`], returns an [`Outcome`].
//!
//! The CNAME chain inside an answer is followed from the question's name
//! for at most `max_chain` links (RFC 1034 §3.6.2: answers may hold the
//! chain and the final records); records of other names, other classes or
//! other types are ignored. This module must not decide what to do next.

use crate::DnsError;
use crate::proto::{CLASS_IN, Message, Name, RData, RType, Rcode, Section};
use std::net::IpAddr;

/// The cacheable meaning of a response to (name, type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Addresses of the type asked for, reached through `canonical`.
    Addrs {
        /// The name the addresses belong to (the end of any CNAME chain).
        canonical: Name,
        /// The addresses, in answer order.
        addrs: Vec<IpAddr>,
        /// Lowest TTL along the chain, seconds.
        ttl: u32,
    },
    /// The chain ends at `target` without records of the type: ask again.
    Alias {
        /// Where the chain ends.
        target: Name,
        /// Lowest TTL along the chain, seconds.
        ttl: u32,
    },
    /// The name does not exist (RCODE 3).
    NxDomain {
        /// Negative-cache lifetime (RFC 2308 §5), 0 without an SOA.
        ttl: u32,
    },
    /// The name exists without records of the type (NODATA).
    NoData {
        /// Negative-cache lifetime (RFC 2308 §5), 0 without an SOA.
        ttl: u32,
    },
}

impl Outcome {
    /// Seconds the outcome may be cached.
    pub fn ttl(&self) -> u32 {
        match self {
            Outcome::Addrs { ttl, .. }
            | Outcome::Alias { ttl, .. }
            | Outcome::NxDomain { ttl }
            | Outcome::NoData { ttl } => *ttl,
        }
    }
}

/// Reads the outcome of a NOERROR or NXDOMAIN response to `qname`/`qtype`.
pub fn outcome(
    msg: &Message<'_>,
    qname: &Name,
    qtype: RType,
    max_chain: u8,
) -> Result<Outcome, DnsError> {
    let mut current = qname.clone();
    let mut ttl = u32::MAX;
    for _ in 0..=max_chain {
        let (addrs, addr_ttl) = addresses(msg, &current, qtype);
        if !addrs.is_empty() {
            return Ok(Outcome::Addrs {
                canonical: current,
                addrs,
                ttl: ttl.min(addr_ttl),
            });
        }
        let Some((target, link_ttl)) = alias(msg, &current) else {
            return Ok(negative(msg, current != *qname, current, ttl));
        };
        current = target;
        ttl = ttl.min(link_ttl);
    }
    Err(DnsError::AliasChainTooLong(max_chain))
}

fn addresses(msg: &Message<'_>, name: &Name, qtype: RType) -> (Vec<IpAddr>, u32) {
    let mut ttl = u32::MAX;
    let mut addrs = Vec::new();
    for r in msg.records(Section::Answer) {
        if r.class != CLASS_IN || r.rtype != qtype || r.name != *name {
            continue;
        }
        let ip = match r.data {
            RData::A(ip) => IpAddr::V4(ip),
            RData::Aaaa(ip) => IpAddr::V6(ip),
            _ => continue,
        };
        ttl = ttl.min(r.ttl);
        addrs.push(ip);
    }
    (addrs, ttl)
}

fn alias(msg: &Message<'_>, name: &Name) -> Option<(Name, u32)> {
    msg.records(Section::Answer).find_map(|r| match r.data {
        RData::Cname(target) if r.class == CLASS_IN && r.name == *name => Some((target, r.ttl)),
        _ => None,
    })
}

/// A chain that ends without the type: an alias to follow on NOERROR, or a
/// negative answer for the last name (RFC 2308 §2.1, §2.2).
fn negative(msg: &Message<'_>, followed: bool, end: Name, chain_ttl: u32) -> Outcome {
    let soa_ttl = negative_ttl(msg);
    match msg.header.rcode {
        Rcode::NxDomain => Outcome::NxDomain {
            ttl: soa_ttl.min(chain_ttl),
        },
        _ if followed => Outcome::Alias {
            target: end,
            ttl: chain_ttl,
        },
        _ => Outcome::NoData { ttl: soa_ttl },
    }
}

/// RFC 2308 §5: the negative TTL is the lesser of the SOA record's TTL and
/// its MINIMUM field; without an SOA the answer is not cached.
fn negative_ttl(msg: &Message<'_>) -> u32 {
    msg.records(Section::Authority)
        .find_map(|r| match r.data {
            RData::Soa { minimum, .. } if r.class == CLASS_IN => Some(r.ttl.min(minimum)),
            _ => None,
        })
        .unwrap_or(0)
}
