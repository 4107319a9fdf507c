//! HPACK decoding (RFC 7541) of request header blocks.
//!
//! Written here rather than taken from a crate: the HPACK crate used for
//! encoding (`loona-hpack`) rebuilds a `HashMap` Huffman table for every
//! Huffman-coded string and walks it with two hash lookups per bit,
//! which measured 60% of the server's CPU under h2load; another candidate
//! indexes past the end of truncated input. This decoder uses canonical
//! Huffman decoding with per-length tables built once from the RFC's code
//! table (taken as data from `httlib-huffman`), and checks every length
//! and index against the input.
//!
//! It must never panic on any input; a decoding error is a connection
//! error (COMPRESSION_ERROR) for the caller.

use std::collections::VecDeque;
use std::sync::OnceLock;

/// Why a header block could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HpackError {
    #[error("integer longer than its limit")]
    Integer,
    #[error("header block truncated")]
    Truncated,
    #[error("index not in the static or dynamic table")]
    Index,
    #[error("invalid Huffman code (EOS, padding over 7 bits or not all ones)")]
    Huffman,
    #[error("dynamic table size update above the allowed maximum")]
    SizeUpdate,
    #[error("dynamic table size update after a header field")]
    SizeUpdatePosition,
}

/// RFC 7541 Appendix A.
const STATIC: [(&str, &str); 61] = [
    (":authority", ""),
    (":method", "GET"),
    (":method", "POST"),
    (":path", "/"),
    (":path", "/index.html"),
    (":scheme", "http"),
    (":scheme", "https"),
    (":status", "200"),
    (":status", "204"),
    (":status", "206"),
    (":status", "304"),
    (":status", "400"),
    (":status", "404"),
    (":status", "500"),
    ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"),
    ("accept-language", ""),
    ("accept-ranges", ""),
    ("accept", ""),
    ("access-control-allow-origin", ""),
    ("age", ""),
    ("allow", ""),
    ("authorization", ""),
    ("cache-control", ""),
    ("content-disposition", ""),
    ("content-encoding", ""),
    ("content-language", ""),
    ("content-length", ""),
    ("content-location", ""),
    ("content-range", ""),
    ("content-type", ""),
    ("cookie", ""),
    ("date", ""),
    ("etag", ""),
    ("expect", ""),
    ("expires", ""),
    ("from", ""),
    ("host", ""),
    ("if-match", ""),
    ("if-modified-since", ""),
    ("if-none-match", ""),
    ("if-range", ""),
    ("if-unmodified-since", ""),
    ("last-modified", ""),
    ("link", ""),
    ("location", ""),
    ("max-forwards", ""),
    ("proxy-authenticate", ""),
    ("proxy-authorization", ""),
    ("range", ""),
    ("referer", ""),
    ("refresh", ""),
    ("retry-after", ""),
    ("server", ""),
    ("set-cookie", ""),
    ("strict-transport-security", ""),
    ("transfer-encoding", ""),
    ("user-agent", ""),
    ("vary", ""),
    ("via", ""),
    ("www-authenticate", ""),
];

/// Canonical Huffman decoding tables: per code length, the first code
/// and where its symbols start in `symbols` (sorted by length, then code).
struct Huffman {
    first: [u32; 31],
    count: [u32; 31],
    offset: [usize; 31],
    symbols: Vec<u16>,
}

fn huffman() -> &'static Huffman {
    static TABLE: OnceLock<Huffman> = OnceLock::new();
    TABLE.get_or_init(|| {
        let codes = &httlib_huffman::encoder::table::ENCODE_TABLE;
        let mut order: Vec<u16> = (0..codes.len() as u16).collect();
        order.sort_by_key(|&s| (codes[s as usize].0, codes[s as usize].1));
        let mut h = Huffman {
            first: [0; 31],
            count: [0; 31],
            offset: [0; 31],
            symbols: order.clone(),
        };
        for (i, &s) in order.iter().enumerate() {
            let (len, code) = codes[s as usize];
            let l = usize::from(len).min(30);
            if h.count[l] == 0 {
                h.first[l] = code;
                h.offset[l] = i;
            }
            h.count[l] += 1;
        }
        h
    })
}

fn huffman_decode(src: &[u8], out: &mut Vec<u8>) -> Result<(), HpackError> {
    let h = huffman();
    let (mut code, mut len) = (0u32, 0usize);
    for byte in src {
        for bit in (0..8).rev() {
            code = (code << 1) | u32::from((byte >> bit) & 1);
            len += 1;
            if len > 30 {
                return Err(HpackError::Huffman);
            }
            let rel = code.wrapping_sub(h.first[len]);
            if h.count[len] > 0 && code >= h.first[len] && rel < h.count[len] {
                let sym = h.symbols[h.offset[len] + rel as usize];
                if sym == 256 {
                    return Err(HpackError::Huffman); // EOS inside a string
                }
                out.push(sym as u8);
                code = 0;
                len = 0;
            }
        }
    }
    // Padding: at most 7 bits, all ones (the EOS prefix).
    if len > 7 || code != (1u32 << len) - 1 {
        return Err(HpackError::Huffman);
    }
    Ok(())
}

/// An integer with an `n`-bit prefix (§5.1); returns it and the bytes
/// used. Values above 2^28 are refused.
fn integer(buf: &[u8], n: u8) -> Result<(usize, usize), HpackError> {
    let first = *buf.first().ok_or(HpackError::Truncated)?;
    let mask = (1u16 << n) - 1;
    let mut value = usize::from(first) & usize::from(mask);
    if value < usize::from(mask) {
        return Ok((value, 1));
    }
    for (i, &b) in buf.iter().enumerate().skip(1) {
        let shift = 7 * (i - 1);
        if shift > 21 {
            return Err(HpackError::Integer);
        }
        value += usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    Err(HpackError::Truncated)
}

/// A string literal (§5.2); returns it and the bytes used.
fn string(buf: &[u8]) -> Result<(Vec<u8>, usize), HpackError> {
    let huffman = buf.first().ok_or(HpackError::Truncated)? & 0x80 != 0;
    let (len, used) = integer(buf, 7)?;
    let raw = buf
        .get(used..used.checked_add(len).ok_or(HpackError::Truncated)?)
        .ok_or(HpackError::Truncated)?;
    let s = if huffman {
        let mut out = Vec::with_capacity(raw.len() * 8 / 5);
        huffman_decode(raw, &mut out)?;
        out
    } else {
        raw.to_vec()
    };
    Ok((s, used + len))
}

/// The decoding context of one connection.
#[derive(Debug)]
pub struct HpackDecoder {
    table: VecDeque<(Vec<u8>, Vec<u8>)>,
    size: usize,
    max: usize,
    /// SETTINGS_HEADER_TABLE_SIZE we announced: size updates above it are
    /// errors.
    allowed: usize,
}

fn entry_size(n: &[u8], v: &[u8]) -> usize {
    n.len() + v.len() + 32
}

impl HpackDecoder {
    pub fn new(allowed: usize) -> Self {
        HpackDecoder {
            table: VecDeque::new(),
            size: 0,
            max: allowed,
            allowed,
        }
    }

    /// Bytes the dynamic table holds (RFC 7541 §4.1 sizes).
    pub fn table_size(&self) -> usize {
        self.size
    }

    fn evict_to(&mut self, limit: usize) {
        while self.size > limit {
            match self.table.pop_back() {
                Some((n, v)) => self.size -= entry_size(&n, &v),
                None => break,
            }
        }
    }

    fn insert(&mut self, n: Vec<u8>, v: Vec<u8>) {
        let s = entry_size(&n, &v);
        if s > self.max {
            self.table.clear();
            self.size = 0;
            return;
        }
        self.evict_to(self.max - s);
        self.size += s;
        self.table.push_front((n, v));
    }

    fn lookup(&self, index: usize) -> Result<(&[u8], &[u8]), HpackError> {
        match index {
            0 => Err(HpackError::Index),
            1..=61 => {
                let (n, v) = STATIC[index - 1];
                Ok((n.as_bytes(), v.as_bytes()))
            }
            _ => self
                .table
                .get(index - 62)
                .map(|(n, v)| (n.as_slice(), v.as_slice()))
                .ok_or(HpackError::Index),
        }
    }

    /// Decode one complete header block, calling `field` for each field
    /// in order.
    pub fn decode(
        &mut self,
        block: &[u8],
        mut field: impl FnMut(&[u8], &[u8]),
    ) -> Result<(), HpackError> {
        let mut pos = 0;
        let mut fields_seen = false;
        while let Some(&b) = block.get(pos) {
            let rest = &block[pos..];
            if b & 0x80 != 0 {
                // §6.1 indexed field
                let (i, used) = integer(rest, 7)?;
                let (n, v) = self.lookup(i)?;
                field(n, v);
                pos += used;
                fields_seen = true;
            } else if b & 0xe0 == 0x20 {
                // §6.3 dynamic table size update
                if fields_seen {
                    return Err(HpackError::SizeUpdatePosition);
                }
                let (size, used) = integer(rest, 5)?;
                if size > self.allowed {
                    return Err(HpackError::SizeUpdate);
                }
                self.max = size;
                self.evict_to(size);
                pos += used;
            } else {
                // §6.2 literals: with indexing (6-bit index), without or
                // never indexed (4-bit index)
                let indexing = b & 0xc0 == 0x40;
                let (i, mut used) = integer(rest, if indexing { 6 } else { 4 })?;
                let name = if i == 0 {
                    let (n, u) = string(&rest[used..])?;
                    used += u;
                    n
                } else {
                    self.lookup(i)?.0.to_vec()
                };
                let (value, u) = string(&rest[used..])?;
                used += u;
                field(&name, &value);
                if indexing {
                    self.insert(name, value);
                }
                pos += used;
                fields_seen = true;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(d: &mut HpackDecoder, block: &[u8]) -> Result<Vec<(String, String)>, HpackError> {
        let mut out = Vec::new();
        d.decode(block, |n, v| {
            out.push((
                String::from_utf8_lossy(n).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            ))
        })?;
        Ok(out)
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    #[test]
    fn static_table_matches_another_implementation() {
        let mut other = loona_hpack::Decoder::new();
        for i in 1..=61u8 {
            let theirs = other.decode(&[0x80 | i]).expect("loona");
            let mut ours = HpackDecoder::new(4096);
            let mine = decode(&mut ours, &[0x80 | i]).expect("ours");
            assert_eq!(mine[0].0.as_bytes(), theirs[0].0.as_slice(), "name {i}");
            assert_eq!(mine[0].1.as_bytes(), theirs[0].1.as_slice(), "value {i}");
        }
    }

    /// RFC 7541 C.4: three requests with Huffman coding and a shared
    /// dynamic table.
    #[test]
    fn rfc7541_c4_requests_with_huffman() {
        let mut d = HpackDecoder::new(4096);
        let r1 = decode(&mut d, &hex("828684418cf1e3c2e5f23a6ba0ab90f4ff")).expect("c4.1");
        assert_eq!(r1[3], (":authority".into(), "www.example.com".into()));
        let r2 = decode(&mut d, &hex("828684be5886a8eb10649cbf")).expect("c4.2");
        assert_eq!(
            r2[3],
            (":authority".into(), "www.example.com".into()),
            "from the dynamic table"
        );
        assert_eq!(r2[4], ("cache-control".into(), "no-cache".into()));
        let r3 = decode(
            &mut d,
            &hex("828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf"),
        )
        .expect("c4.3");
        assert_eq!(r3[1], (":scheme".into(), "https".into()));
        assert_eq!(r3[2], (":path".into(), "/index.html".into()));
        assert_eq!(r3[4], ("custom-key".into(), "custom-value".into()));
        assert_eq!(d.size, 164, "table size as in the RFC");
    }

    /// Every byte value Huffman-encoded by another implementation decodes
    /// back (the 256 symbols, 5 to 30 bits long).
    #[test]
    fn huffman_round_trips_every_octet() {
        let all: Vec<u8> = (0..=255u8).collect();
        let mut enc = Vec::new();
        httlib_huffman::encode(&all, &mut enc).expect("encode");
        let mut out = Vec::new();
        huffman_decode(&enc, &mut out).expect("decode");
        assert_eq!(out, all);
    }

    /// One row per RFC 7541 rule enforced.
    #[test]
    fn each_rule_rejects_its_violation() {
        let rows: &[(&str, &[u8], HpackError)] = &[
            ("§6.1 index 0", &[0x80], HpackError::Index),
            ("§2.3.3 index past the tables", &[0xbe], HpackError::Index),
            (
                "§5.1 integer too long",
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
                HpackError::Integer,
            ),
            (
                "§5.1 truncated integer",
                &[0xff, 0x80],
                HpackError::Truncated,
            ),
            (
                "§5.2 string past the block",
                &[0x40, 0x05, b'a'],
                HpackError::Truncated,
            ),
            (
                "§5.2 padding longer than 7 bits",
                &[0x40, 0x82, 0xff, 0xff, 0x00],
                HpackError::Huffman,
            ),
            (
                "§5.2 padding not all ones",
                &[0x00, 0x81, 0x00, 0x00],
                HpackError::Huffman,
            ),
            (
                "§5.2 EOS in a string",
                &[0x00, 0x84, 0xff, 0xff, 0xff, 0xff, 0x00],
                HpackError::Huffman,
            ),
            (
                "§6.3 size update above the maximum",
                &[0x3f, 0xe2, 0x1f],
                HpackError::SizeUpdate,
            ),
            (
                "§4.2 size update after a field",
                &[0x82, 0x20],
                HpackError::SizeUpdatePosition,
            ),
        ];
        for (rule, block, want) in rows {
            let mut d = HpackDecoder::new(4096);
            assert_eq!(decode(&mut d, block).err(), Some(*want), "{rule}");
        }
    }

    #[test]
    fn size_update_evicts_and_oversize_entries_empty_the_table() {
        let mut d = HpackDecoder::new(4096);
        decode(&mut d, b"\x40\x01a\x01b").expect("insert");
        assert_eq!(d.size, 34);
        decode(&mut d, &[0x20]).expect("size 0 at the start");
        assert_eq!((d.size, d.table.len()), (0, 0));
        assert_eq!(decode(&mut d, &[0xbe]).err(), Some(HpackError::Index));
        let mut d = HpackDecoder::new(40);
        decode(&mut d, b"\x40\x01a\x01b").expect("fits");
        decode(&mut d, b"\x40\x05aaaaa\x05bbbbb").expect("too big for 40");
        assert_eq!(d.table.len(), 0);
    }

    #[test]
    fn arbitrary_blocks_never_panic() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut d = HpackDecoder::new(4096);
        for _ in 0..20_000 {
            let len = (seed % 40) as usize;
            let block: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    (seed >> 32) as u8
                })
                .collect();
            let _ = decode(&mut d, &block);
            assert!(d.size <= d.max);
        }
    }
}
