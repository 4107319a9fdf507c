//! Arbitrary bytes, split at arbitrary points, through the chunked decoder;
//! plus a round trip: data encoded with the encoder decodes to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lws_role_http::parse::chunked::{Chunk, ChunkedDecoder};
use lws_role_http::parse::encode_chunk_header;

fn decode(input: &[u8], step: usize) -> Option<Vec<u8>> {
    let mut dec = ChunkedDecoder::new(1 << 20);
    let mut out = Vec::new();
    for piece in input.chunks(step.max(1)) {
        let mut rest = piece;
        while !rest.is_empty() {
            let (n, chunk) = dec.decode(rest).ok()?;
            assert!(n <= rest.len());
            if n == 0 && chunk.is_none() {
                return None; // no progress is a bug unless input ended
            }
            if let Some(Chunk::Data(d)) = chunk {
                out.extend_from_slice(d);
            }
            rest = &rest[n..];
            if dec.is_done() {
                return Some(out);
            }
        }
    }
    Some(out)
}

fuzz_target!(|data: &[u8]| {
    let step = data.first().map_or(1, |b| *b as usize % 17 + 1);
    let _ = decode(data, step);
    // Round trip: frame `data` in pieces, decode at another split.
    let mut framed = Vec::new();
    for piece in data.chunks(step * 3) {
        encode_chunk_header(&mut framed, piece.len());
        framed.extend_from_slice(piece);
        framed.extend_from_slice(b"\r\n");
    }
    encode_chunk_header(&mut framed, 0);
    let back = decode(&framed, step + 1).expect("valid framing decodes");
    assert_eq!(back, data);
});
