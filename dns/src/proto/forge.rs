//! Test-only: builds response bytes by hand, so resolver and codec tests
//! can say what a server answered without a server. Names are written
//! uncompressed; tests that need pointers write the bytes themselves.

use super::{Name, RType};
use std::net::{Ipv4Addr, Ipv6Addr};

/// A response under construction.
pub struct Forge {
    id: u16,
    flags: [u8; 2],
    question: Vec<u8>,
    sections: [Vec<u8>; 3],
    counts: [u16; 3],
}

fn wire(name: &str) -> Vec<u8> {
    Name::from_dotted(name)
        .map(|n| n.wire().to_vec())
        .unwrap_or_default()
}

impl Forge {
    /// A NOERROR response with RD/RA set to `qname`/`qtype`.
    pub fn response(id: u16, qname: &str, qtype: RType) -> Self {
        let mut question = wire(qname);
        question.extend_from_slice(&qtype.code().to_be_bytes());
        question.extend_from_slice(&[0, 1]);
        Forge {
            id,
            flags: [0x81, 0x80],
            question,
            sections: Default::default(),
            counts: [0; 3],
        }
    }

    /// Sets the response code.
    pub fn rcode(mut self, code: u8) -> Self {
        self.flags[1] = (self.flags[1] & 0xF0) | code;
        self
    }

    /// Sets the TC bit.
    pub fn truncated(mut self) -> Self {
        self.flags[0] |= 0x02;
        self
    }

    fn record(mut self, section: usize, name: &str, rtype: u16, ttl: u32, data: &[u8]) -> Self {
        let s = &mut self.sections[section];
        s.extend_from_slice(&wire(name));
        s.extend_from_slice(&rtype.to_be_bytes());
        s.extend_from_slice(&[0, 1]);
        s.extend_from_slice(&ttl.to_be_bytes());
        s.extend_from_slice(&(data.len() as u16).to_be_bytes());
        s.extend_from_slice(data);
        self.counts[section] += 1;
        self
    }

    /// Adds an A answer.
    pub fn a(self, name: &str, ttl: u32, ip: Ipv4Addr) -> Self {
        self.record(0, name, 1, ttl, &ip.octets())
    }

    /// Adds an AAAA answer.
    pub fn aaaa(self, name: &str, ttl: u32, ip: Ipv6Addr) -> Self {
        self.record(0, name, 28, ttl, &ip.octets())
    }

    /// Adds a CNAME answer.
    pub fn cname(self, name: &str, ttl: u32, target: &str) -> Self {
        self.record(0, name, 5, ttl, &wire(target))
    }

    /// Adds an SOA to the authority section with TTL `ttl` and MINIMUM
    /// `minimum`.
    pub fn soa(self, zone: &str, ttl: u32, minimum: u32) -> Self {
        let mut data = wire("ns.invalid");
        data.extend(wire("host.invalid"));
        for n in [1u32, 3600, 600, 86400, minimum] {
            data.extend_from_slice(&n.to_be_bytes());
        }
        self.record(1, zone, 6, ttl, &data)
    }

    /// The message bytes.
    pub fn build(self) -> Vec<u8> {
        let mut out = self.id.to_be_bytes().to_vec();
        out.extend_from_slice(&self.flags);
        out.extend_from_slice(&[0, 1]);
        for c in self.counts {
            out.extend_from_slice(&c.to_be_bytes());
        }
        out.extend(self.question);
        for s in self.sections {
            out.extend(s);
        }
        out
    }
}
