//! Arbitrary bytes as an HTTP/1 request head, with small limits so limit
//! paths are reached too. Must never panic; a parsed head must be
//! internally consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lws_role_http::parse::{BodyFraming, Limits, parse_request};

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_head: 2048, max_uri: 512, max_headers: 16 };
    if let Ok(Some((head, n))) = parse_request(data, &limits) {
        assert!(n <= data.len());
        assert!(n <= limits.max_head);
        assert!(head.target.len() <= limits.max_uri);
        // Both framings at once must never be accepted.
        let te = head.headers.get("transfer-encoding").is_some();
        let cl = head.headers.get("content-length").is_some();
        assert!(!(te && cl));
        if head.framing == BodyFraming::Chunked {
            assert!(te);
        }
    }
    let _ = parse_request(data, &Limits::default());
});
