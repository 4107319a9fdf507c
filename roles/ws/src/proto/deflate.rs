//! permessage-deflate (RFC 7692): negotiation and per-message
//! compression/decompression with flate2 (raw deflate, zlib-rs backend).
//!
//! Window sizes: we always inflate with a 2^15 window, which decodes any
//! smaller window. zlib cannot compress raw deflate with an 8-bit window;
//! when a peer limits our window to 8 bits we emit stored (uncompressed)
//! deflate blocks, which contain no back-references and are valid for any
//! window. Inflation enforces the message size limit while it runs, so a
//! small compressed message cannot expand past it (inflate bombs).

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use crate::proto::error::WsError;

/// The extension's name in `Sec-WebSocket-Extensions`.
pub const NAME: &str = "permessage-deflate";
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The negotiated parameters, from this endpoint's point of view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeflateParams {
    /// Reset our compressor after every message.
    pub our_no_context_takeover: bool,
    /// The peer resets its compressor after every message (so our
    /// inflater resets too).
    pub peer_no_context_takeover: bool,
    /// Largest window our compressor may use (8..=15).
    pub our_max_window_bits: u8,
}

/// One extension offer's parameters, as parsed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Offer {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: offered without a value.
    client_max_window_bits: Option<Option<u8>>,
}

fn window_bits(v: Option<&str>) -> Result<u8, ()> {
    let v = v.ok_or(())?.trim().trim_matches('"');
    if v.is_empty() || v.len() > 2 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    match v.parse::<u8>() {
        Ok(n @ 8..=15) => Ok(n),
        _ => Err(()),
    }
}

/// Parse one `permessage-deflate; p; q=v` element's parameters.
fn parse_params(params: &[&str]) -> Result<Offer, ()> {
    let mut o = Offer::default();
    let mut seen = Vec::new();
    for p in params {
        let (name, value) = match p.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v)),
            None => (p.trim(), None),
        };
        if seen.contains(&name) {
            return Err(()); // duplicate parameter: invalid offer
        }
        seen.push(name);
        match (name, value) {
            ("server_no_context_takeover", None) => o.server_no_context_takeover = true,
            ("client_no_context_takeover", None) => o.client_no_context_takeover = true,
            ("server_max_window_bits", v) => o.server_max_window_bits = Some(window_bits(v)?),
            ("client_max_window_bits", None) => o.client_max_window_bits = Some(None),
            ("client_max_window_bits", v) => o.client_max_window_bits = Some(Some(window_bits(v)?)),
            _ => return Err(()),
        }
    }
    Ok(o)
}

/// The permessage-deflate elements of a `Sec-WebSocket-Extensions` value.
fn elements(header: &str) -> impl Iterator<Item = Vec<&str>> {
    header.split(',').filter_map(|ext| {
        let mut parts = ext.split(';').map(str::trim);
        (parts.next()? == NAME).then(|| parts.collect())
    })
}

/// Server side: accept the first valid permessage-deflate offer. Returns
/// the parameters and the response header value; `None` declines (no
/// valid offer, or none at all).
pub fn negotiate_server(
    header: Option<&str>,
    force_no_context_takeover: bool,
) -> Option<(DeflateParams, String)> {
    let offer = elements(header?).find_map(|p| parse_params(&p).ok())?;
    let ours_reset = offer.server_no_context_takeover || force_no_context_takeover;
    let our_bits = offer.server_max_window_bits.unwrap_or(15);
    let mut resp = NAME.to_owned();
    if ours_reset {
        resp.push_str("; server_no_context_takeover");
    }
    if offer.client_no_context_takeover {
        resp.push_str("; client_no_context_takeover");
    }
    if let Some(b) = offer.server_max_window_bits {
        resp.push_str(&format!("; server_max_window_bits={b}"));
    }
    let params = DeflateParams {
        our_no_context_takeover: ours_reset,
        peer_no_context_takeover: offer.client_no_context_takeover,
        our_max_window_bits: our_bits,
    };
    Some((params, resp))
}

/// Client side: the offer to send.
pub fn client_offer() -> String {
    format!("{NAME}; client_max_window_bits")
}

/// Client side: validate the server's response to [`client_offer`].
pub fn accept_client(header: &str) -> Result<DeflateParams, WsError> {
    let mut els = elements(header);
    let (Some(params), None) = (els.next(), els.next()) else {
        return Err(WsError::Protocol("bad permessage-deflate response"));
    };
    let o = parse_params(&params)
        .map_err(|()| WsError::Protocol("bad permessage-deflate parameters"))?;
    Ok(DeflateParams {
        our_no_context_takeover: o.client_no_context_takeover,
        peer_no_context_takeover: o.server_no_context_takeover,
        our_max_window_bits: o.client_max_window_bits.flatten().unwrap_or(15),
    })
}

/// Compresses outgoing messages.
pub struct Deflater {
    c: Compress,
    reset_each: bool,
}

impl std::fmt::Debug for Deflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflater")
            .field("reset_each", &self.reset_each)
            .finish()
    }
}

impl Deflater {
    pub fn new(p: &DeflateParams) -> Self {
        let c = match p.our_max_window_bits {
            9..=15 => {
                Compress::new_with_window_bits(Compression::fast(), false, p.our_max_window_bits)
            }
            // 8-bit window: stored blocks (no back-references).
            _ => Compress::new_with_window_bits(Compression::none(), false, 9),
        };
        Deflater {
            c,
            reset_each: p.our_no_context_takeover,
        }
    }

    /// Compress one whole message into `out` (appended), without the
    /// trailing 00 00 ff ff.
    pub fn compress(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), WsError> {
        let before = self.c.total_in();
        loop {
            let consumed = (self.c.total_in() - before) as usize;
            out.reserve(input.len() - consumed + 64);
            self.c
                .compress_vec(&input[consumed..], out, FlushCompress::Sync)
                .map_err(|e| WsError::Deflate(e.to_string()))?;
            let all_in = (self.c.total_in() - before) as usize == input.len();
            // A full output buffer may hide pending output: go round again.
            if all_in && out.len() < out.capacity() {
                break;
            }
        }
        if out.ends_with(&TAIL) {
            out.truncate(out.len() - 4);
        }
        if self.reset_each {
            self.c.reset();
        }
        Ok(())
    }
}

/// Decompresses incoming messages, frame by frame.
pub struct Inflater {
    d: Decompress,
    reset_each: bool,
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater")
            .field("reset_each", &self.reset_each)
            .finish()
    }
}

impl Inflater {
    pub fn new(p: &DeflateParams) -> Self {
        Inflater {
            d: Decompress::new_with_window_bits(false, 15),
            reset_each: p.peer_no_context_takeover,
        }
    }

    /// Inflate part of a compressed message into `out`; `last`: this is
    /// the end of the message. Fails once `out` would exceed `limit`.
    pub fn inflate(
        &mut self,
        input: &[u8],
        last: bool,
        out: &mut Vec<u8>,
        limit: u64,
    ) -> Result<(), WsError> {
        self.run(input, out, limit)?;
        if last {
            self.run(&TAIL, out, limit)?;
            if self.reset_each {
                self.d.reset(false);
            }
        }
        Ok(())
    }

    fn run(&mut self, input: &[u8], out: &mut Vec<u8>, limit: u64) -> Result<(), WsError> {
        let before = self.d.total_in();
        loop {
            let consumed = (self.d.total_in() - before) as usize;
            if out.capacity() - out.len() < 16 * 1024 {
                // Grow geometrically, but never much past the limit.
                let left = limit.saturating_sub(out.len() as u64).saturating_add(1);
                let grow = (out.len() / 2)
                    .max(32 * 1024)
                    .min(usize::try_from(left).unwrap_or(usize::MAX).max(1024));
                out.reserve_exact(grow);
            }
            let status = self
                .d
                .decompress_vec(&input[consumed..], out, FlushDecompress::Sync)
                .map_err(|e| WsError::Deflate(e.to_string()))?;
            if out.len() as u64 > limit {
                return Err(WsError::TooBig {
                    size: out.len() as u64,
                    limit,
                });
            }
            let all_in = (self.d.total_in() - before) as usize == input.len();
            if status == Status::StreamEnd && !all_in {
                return Err(WsError::Deflate(
                    "data after the final deflate block".into(),
                ));
            }
            // A full output buffer may hide pending output: go round again.
            if all_in && out.len() < out.capacity() {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(reset: bool, bits: u8) -> (Deflater, Inflater) {
        let p = DeflateParams {
            our_no_context_takeover: reset,
            peer_no_context_takeover: reset,
            our_max_window_bits: bits,
        };
        (Deflater::new(&p), Inflater::new(&p))
    }

    #[test]
    fn rfc7692_7_2_round_trip_with_and_without_context_takeover() {
        for (reset, bits) in [(false, 15), (true, 15), (false, 9), (true, 8)] {
            let (mut d, mut i) = pair(reset, bits);
            for n in [0usize, 1, 100, 70_000] {
                let msg: Vec<u8> = (0..n).map(|x| (x % 7) as u8 + b'a').collect();
                let mut z = Vec::new();
                d.compress(&msg, &mut z).expect("compress");
                assert!(!z.ends_with(&TAIL), "tail removed");
                let mut back = Vec::new();
                for (k, piece) in z.chunks(5).enumerate() {
                    let last = (k + 1) * 5 >= z.len();
                    i.inflate(piece, last, &mut back, u64::MAX)
                        .expect("inflate");
                }
                if z.is_empty() {
                    i.inflate(&[], true, &mut back, u64::MAX).expect("inflate");
                }
                assert_eq!(back, msg, "reset {reset} bits {bits} n {n}");
            }
        }
    }

    #[test]
    fn inflate_bomb_stops_at_the_limit() {
        let (mut d, mut i) = pair(false, 15);
        let mut z = Vec::new();
        d.compress(&vec![0u8; 10 << 20], &mut z).expect("compress");
        assert!(z.len() < (1 << 20), "compressed {} bytes", z.len());
        let mut out = Vec::new();
        let e = i.inflate(&z, true, &mut out, 1 << 20).expect_err("limit");
        assert_eq!(e.close_code(), 1009);
        assert!(
            out.len() < 2 << 20,
            "stopped early, not after inflating all"
        );
    }

    #[test]
    fn rfc7692_5_negotiation() {
        let (p, resp) = negotiate_server(Some("permessage-deflate; client_max_window_bits"), false)
            .expect("accepted");
        assert_eq!(resp, "permessage-deflate");
        assert!(!p.our_no_context_takeover);
        let (p, resp) = negotiate_server(
            Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10"),
            false,
        )
        .expect("accepted");
        assert_eq!(
            resp,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10"
        );
        assert_eq!(
            (
                p.our_no_context_takeover,
                p.peer_no_context_takeover,
                p.our_max_window_bits
            ),
            (true, true, 10)
        );
        for bad in [
            "permessage-deflate; server_max_window_bits=7",
            "permessage-deflate; bogus",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; server_max_window_bits",
        ] {
            assert_eq!(negotiate_server(Some(bad), false), None, "{bad}");
        }
        let (_, resp) = negotiate_server(
            Some("permessage-deflate; server_max_window_bits=7, permessage-deflate"),
            false,
        )
        .expect("second offer");
        assert_eq!(resp, "permessage-deflate");
        assert_eq!(
            negotiate_server(Some("x-webkit-deflate-frame"), false),
            None
        );
    }
}
