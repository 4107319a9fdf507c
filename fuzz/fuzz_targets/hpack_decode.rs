//! Arbitrary header blocks through one HPACK decoding context (so the
//! dynamic table carries over between blocks). Must never panic, and the
//! table never exceeds its size.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lws_role_http::h2::hpack::HpackDecoder;

fuzz_target!(|data: &[u8]| {
    let mut d = HpackDecoder::new(256);
    for block in data.split(|&b| b == 0xfe) {
        let mut total = 0usize;
        let _ = d.decode(block, |n, v| total += n.len() + v.len());
        assert!(d.table_size() <= 256);
    }
});
