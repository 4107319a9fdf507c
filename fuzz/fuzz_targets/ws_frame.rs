//! Arbitrary bytes through the WebSocket receiver (frame parser, unmasking,
//! fragmentation rules, UTF-8, close payloads, and deflate when RSV1 is
//! allowed), on both sides, split at arbitrary points. Must never panic
//! and never deliver invalid text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lws_role_ws::proto::Side;
use lws_role_ws::proto::deflate::{DeflateParams, Inflater};
use lws_role_ws::rx::{Flow, Incoming, Receiver};

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, rest)) = data.split_first() else { return };
    let side = if ctl & 1 == 0 { Side::Server } else { Side::Client };
    let params = DeflateParams { our_no_context_takeover: false, peer_no_context_takeover: ctl & 2 != 0, our_max_window_bits: 15, peer_max_window_bits: 9 + (ctl >> 4) % 7 };
    let inflater = (ctl & 4 != 0).then(|| Inflater::new(&params));
    let mut rx = Receiver::new(side, 64 * 1024, ctl & 8 != 0, inflater);
    let step = usize::from(ctl >> 4) + 1;
    for piece in rest.chunks(step) {
        let r = rx.feed(piece, &mut |item| {
            match item {
                Incoming::Message { text: true, data } => assert!(std::str::from_utf8(data).is_ok()),
                Incoming::Close(Some((code, _))) => assert!((1000..5000).contains(&code)),
                _ => {}
            }
            Flow::Continue
        });
        if r.is_err() {
            break;
        }
    }
});
