//! Arbitrary bytes as permessage-deflate message data, in arbitrary
//! pieces, with a small size limit: errors are fine, panics and output
//! past the limit (plus one growth step) are not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lws_role_ws::proto::deflate::{DeflateParams, Inflater};

const LIMIT: u64 = 256 * 1024;

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, rest)) = data.split_first() else { return };
    let params = DeflateParams { our_no_context_takeover: false, peer_no_context_takeover: ctl & 1 != 0, our_max_window_bits: 15, peer_max_window_bits: 9 + (ctl >> 4) % 7 };
    let mut inf = Inflater::new(&params);
    let step = usize::from(ctl >> 1) + 1;
    let mut out = Vec::new();
    let pieces: Vec<&[u8]> = rest.chunks(step).collect();
    for (i, piece) in pieces.iter().enumerate() {
        let last = i + 1 == pieces.len();
        if inf.inflate(piece, last, &mut out, LIMIT).is_err() {
            return;
        }
        assert!(out.len() as u64 <= LIMIT, "inflated past the limit without an error");
    }
});
