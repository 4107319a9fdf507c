//! Per-message compression and decompression with flate2 (raw deflate,
//! zlib-rs backend), sized by the negotiated window bits.
//!
//! Memory: zlib state is allocated on a connection's first compressed
//! message, not at the handshake, and dropped after each message when
//! that direction has no context takeover. An idle connection that has
//! negotiated permessage-deflate therefore holds no zlib state until it
//! sends or receives a compressed message, and none at all between
//! messages with `no_context_takeover`.
//!
//! Window sizes: zlib cannot compress raw deflate with an 8-bit window.
//! When the peer limits us to 8 bits we send every message uncompressed
//! (RSV1 clear; RFC 7692 §6 lets any message go uncompressed) rather than
//! exceed the negotiated window. Our inflater uses the peer's negotiated
//! window, but at least 9 bits: older zlib versions asked for 8 silently
//! used 9, and a larger inflate window decodes any smaller one.
//! Inflation enforces the message size limit while it runs, so a small
//! compressed message cannot expand past it (inflate bombs).

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::DeflateParams;
use crate::proto::error::WsError;

const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Compresses outgoing messages.
pub struct Deflater {
    c: Option<Compress>,
    bits: u8,
    reset_each: bool,
}

impl std::fmt::Debug for Deflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflater")
            .field("bits", &self.bits)
            .field("reset_each", &self.reset_each)
            .field("allocated", &self.c.is_some())
            .finish()
    }
}

impl Deflater {
    /// No zlib state yet: it is allocated by the first [`compress`](Self::compress).
    pub fn new(p: &DeflateParams) -> Self {
        Deflater {
            c: None,
            bits: p.our_max_window_bits,
            reset_each: p.our_no_context_takeover,
        }
    }

    /// Whether messages are compressed at all (not with an 8-bit window).
    pub fn active(&self) -> bool {
        self.bits >= 9
    }

    /// Whether zlib state is allocated now.
    pub fn holds_state(&self) -> bool {
        self.c.is_some()
    }

    /// Compress one whole message into `out` (appended), without the
    /// trailing 00 00 ff ff. Only when [`active`](Self::active).
    pub fn compress(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), WsError> {
        if !self.active() {
            return Err(WsError::Deflate(
                "no compression with an 8-bit window".into(),
            ));
        }
        let bits = self.bits.min(15);
        let c = self.c.get_or_insert_with(|| {
            Compress::new_with_window_bits(Compression::fast(), false, bits)
        });
        let before = c.total_in();
        loop {
            let consumed = (c.total_in() - before) as usize;
            out.reserve(input.len() - consumed + 64);
            c.compress_vec(&input[consumed..], out, FlushCompress::Sync)
                .map_err(|e| WsError::Deflate(e.to_string()))?;
            let all_in = (c.total_in() - before) as usize == input.len();
            // A full output buffer may hide pending output: go round again.
            if all_in && out.len() < out.capacity() {
                break;
            }
        }
        if out.ends_with(&TAIL) {
            out.truncate(out.len() - 4);
        }
        if self.reset_each {
            self.c = None;
        }
        Ok(())
    }
}

/// Decompresses incoming messages, frame by frame.
pub struct Inflater {
    d: Option<Decompress>,
    bits: u8,
    reset_each: bool,
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater")
            .field("bits", &self.bits)
            .field("reset_each", &self.reset_each)
            .field("allocated", &self.d.is_some())
            .finish()
    }
}

impl Inflater {
    /// No zlib state yet: it is allocated by the first [`inflate`](Self::inflate).
    pub fn new(p: &DeflateParams) -> Self {
        Inflater {
            d: None,
            bits: p.peer_max_window_bits.clamp(9, 15),
            reset_each: p.peer_no_context_takeover,
        }
    }

    /// Whether zlib state is allocated now.
    pub fn holds_state(&self) -> bool {
        self.d.is_some()
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
        let bits = self.bits;
        let d = self
            .d
            .get_or_insert_with(|| Decompress::new_with_window_bits(false, bits));
        run(d, input, out, limit)?;
        if last {
            run(d, &TAIL, out, limit)?;
            if self.reset_each {
                self.d = None;
            }
        }
        Ok(())
    }
}

fn run(d: &mut Decompress, input: &[u8], out: &mut Vec<u8>, limit: u64) -> Result<(), WsError> {
    let before = d.total_in();
    loop {
        let consumed = (d.total_in() - before) as usize;
        if out.capacity() - out.len() < 16 * 1024 {
            // Grow geometrically, but never much past the limit.
            let left = limit.saturating_sub(out.len() as u64).saturating_add(1);
            let grow = (out.len() / 2)
                .max(32 * 1024)
                .min(usize::try_from(left).unwrap_or(usize::MAX).max(1024));
            out.reserve_exact(grow);
        }
        let status = d
            .decompress_vec(&input[consumed..], out, FlushDecompress::Sync)
            .map_err(|e| WsError::Deflate(e.to_string()))?;
        if out.len() as u64 > limit {
            return Err(WsError::TooBig {
                size: out.len() as u64,
                limit,
            });
        }
        let all_in = (d.total_in() - before) as usize == input.len();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(reset: bool, bits: u8) -> (Deflater, Inflater) {
        let p = DeflateParams {
            our_no_context_takeover: reset,
            peer_no_context_takeover: reset,
            our_max_window_bits: bits,
            peer_max_window_bits: bits,
        };
        (Deflater::new(&p), Inflater::new(&p))
    }

    #[test]
    fn rfc7692_7_2_round_trip_with_and_without_context_takeover() {
        for (reset, bits) in [(false, 15), (true, 15), (false, 9), (true, 9), (false, 11)] {
            let (mut d, mut i) = pair(reset, bits);
            for n in [0usize, 1, 100, 70_000] {
                let msg: Vec<u8> = (0..n).map(|x| (x * x % 251) as u8).collect();
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
                // No context takeover: no state kept between messages.
                assert_eq!(d.holds_state(), !reset);
                assert_eq!(i.holds_state(), !reset);
            }
        }
    }

    #[test]
    fn state_is_allocated_on_the_first_message_only() {
        let (mut d, mut i) = pair(false, 15);
        assert!(!d.holds_state() && !i.holds_state());
        let mut z = Vec::new();
        d.compress(b"hello hello hello hello", &mut z)
            .expect("compress");
        assert!(d.holds_state() && !i.holds_state());
        i.inflate(&z, true, &mut Vec::new(), 1 << 20)
            .expect("inflate");
        assert!(i.holds_state());
    }

    #[test]
    fn an_8_bit_window_sends_uncompressed() {
        let (mut d, _) = pair(false, 8);
        assert!(!d.active());
        assert!(d.compress(b"abc", &mut Vec::new()).is_err());
        assert!(!d.holds_state());
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
}
