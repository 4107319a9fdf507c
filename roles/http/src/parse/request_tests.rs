//! Table tests: one per RFC 9112 / 9110 rule the request parser and the
//! chunked decoder enforce, named after the rule.

use super::chunked::{Chunk, ChunkedDecoder};
use super::*;

fn parse(raw: &str) -> Result<Option<(RequestHead, usize)>, HeadError> {
    parse_request(raw.as_bytes(), &Limits::default())
}

fn status_of(raw: &str) -> u16 {
    match parse(raw) {
        Ok(Some(_)) => 200,
        Ok(None) => 0,
        Err(e) => e.status(),
    }
}

fn ok(raw: &str) -> RequestHead {
    match parse(raw) {
        Ok(Some((h, _))) => h,
        other => panic!("expected a complete head for {raw:?}, got {other:?}"),
    }
}

#[test]
fn rfc9112_2_complete_head_reports_its_length() {
    let raw = "GET / HTTP/1.1\r\nHost: a\r\n\r\nBODY";
    let (_, n) = parse(raw).expect("valid").expect("complete");
    assert_eq!(&raw[n..], "BODY");
}

#[test]
fn rfc9112_2_incomplete_head_asks_for_more() {
    assert_eq!(status_of("GET / HTTP/1.1\r\nHost: a\r\n"), 0);
}

#[test]
fn rfc9112_3_request_line_syntax() {
    for bad in [
        "GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /\r\nHost: a\r\n\r\n",
        "G@T / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.1 extra\r\nHost: a\r\n\r\n",
        " GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n",
    ] {
        assert_eq!(status_of(bad), 400, "{bad:?}");
    }
}

#[test]
fn rfc9112_2_6_unsupported_version_is_505_garbage_is_400() {
    assert_eq!(status_of("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
    assert_eq!(status_of("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), 505);
    assert_eq!(status_of("GET / HTTX/1.1\r\nHost: a\r\n\r\n"), 400);
    assert_eq!(ok("GET / HTTP/1.0\r\n\r\n").version, Version::Http10);
}

#[test]
fn rfc9112_3_2_target_form_must_suit_method() {
    assert_eq!(status_of("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), 200);
    assert_eq!(status_of("GET * HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    assert_eq!(
        status_of("CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n"),
        200
    );
    assert_eq!(
        status_of("GET a.example:443 HTTP/1.1\r\nHost: a\r\n\r\n"),
        400
    );
    assert_eq!(
        status_of("GET http://a.example/x HTTP/1.1\r\nHost: a.example\r\n\r\n"),
        200
    );
}

#[test]
fn rfc9112_3_2_http11_needs_exactly_one_valid_host() {
    assert_eq!(status_of("GET / HTTP/1.1\r\n\r\n"), 400);
    assert_eq!(
        status_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
        400
    );
    assert_eq!(status_of("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), 400);
    assert_eq!(
        ok("GET / HTTP/1.1\r\nHost: Example.COM:8080\r\n\r\n")
            .host
            .as_deref(),
        Some("example.com:8080")
    );
    assert_eq!(ok("GET / HTTP/1.0\r\n\r\n").host, None);
}

#[test]
fn rfc9112_5_no_whitespace_between_field_name_and_colon() {
    assert_eq!(status_of("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), 400);
}

#[test]
fn rfc9112_5_2_obs_fold_is_rejected() {
    assert_eq!(
        status_of("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n"),
        400
    );
}

#[test]
fn rfc9112_2_2_bare_cr_is_rejected() {
    assert_eq!(status_of("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n"), 400);
}

#[test]
fn rfc9110_5_5_nul_in_field_value_is_rejected() {
    assert_eq!(
        status_of("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n"),
        400
    );
}

#[test]
fn rfc9112_6_1_te_and_cl_together_are_rejected() {
    let raw =
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n";
    assert_eq!(status_of(raw), 400);
}

#[test]
fn rfc9112_6_1_chunked_must_be_final_and_once() {
    let h = |te: &str| format!("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: {te}\r\n\r\n");
    assert_eq!(ok(&h("chunked")).framing, BodyFraming::Chunked);
    assert_eq!(ok(&h("Chunked")).framing, BodyFraming::Chunked);
    assert_eq!(status_of(&h("chunked, gzip")), 400);
    assert_eq!(status_of(&h("chunked, chunked")), 400);
    assert_eq!(status_of(&h("gzip")), 400);
    assert_eq!(status_of(&h("gzip, chunked")), 501);
    let split = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n";
    assert_eq!(status_of(split), 501);
}

#[test]
fn rfc9112_6_1_te_in_http10_is_rejected() {
    assert_eq!(
        status_of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
        400
    );
}

#[test]
fn rfc9112_6_3_content_length_must_be_single_and_numeric() {
    let h = |cl: &str| format!("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {cl}\r\n\r\n");
    assert_eq!(ok(&h("5")).framing, BodyFraming::Length(5));
    assert_eq!(ok(&h("0")).framing, BodyFraming::None);
    for bad in ["-1", "5, 5", "0x5", "5a", "", "184467440737095516150"] {
        assert_eq!(status_of(&h(bad)), 400, "{bad:?}");
    }
    let dup = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n";
    assert_eq!(status_of(dup), 400);
}

#[test]
fn rfc9112_6_3_no_framing_headers_means_no_body() {
    assert_eq!(
        ok("POST / HTTP/1.1\r\nHost: a\r\n\r\n").framing,
        BodyFraming::None
    );
}

#[test]
fn rfc9112_9_3_persistence_defaults_by_version() {
    assert!(ok("GET / HTTP/1.1\r\nHost: a\r\n\r\n").keep_alive);
    assert!(!ok("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").keep_alive);
    assert!(!ok("GET / HTTP/1.0\r\n\r\n").keep_alive);
    assert!(ok("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
}

#[test]
fn rfc9110_10_1_1_expect() {
    assert!(
        ok("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n")
            .expect_continue
    );
    assert_eq!(
        status_of("PUT / HTTP/1.1\r\nHost: a\r\nExpect: teapot\r\n\r\n"),
        417
    );
}

#[test]
fn rfc9110_7_8_upgrade_needs_connection_upgrade() {
    let with = ok(
        "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n",
    );
    assert_eq!(with.upgrade.as_deref(), Some("websocket"));
    assert_eq!(
        ok("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n").upgrade,
        None
    );
}

#[test]
fn limits_head_431_uri_414_headers_431() {
    let long_uri = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(9000));
    assert_eq!(status_of(&long_uri), 414);
    let partial_uri = format!("GET /{}", "a".repeat(9000));
    assert_eq!(
        status_of(&partial_uri),
        414,
        "refused before the line completes"
    );
    let big = format!(
        "GET / HTTP/1.1\r\nHost: a\r\nX: {}\r\n\r\n",
        "b".repeat(17000)
    );
    assert_eq!(status_of(&big), 431);
    let partial = format!("GET / HTTP/1.1\r\nHost: a\r\nX: {}", "b".repeat(17000));
    assert_eq!(
        status_of(&partial),
        431,
        "refused before the head completes"
    );
    let many: String = (0..101).map(|i| format!("X-{i}: v\r\n")).collect();
    assert_eq!(
        status_of(&format!("GET / HTTP/1.1\r\nHost: a\r\n{many}\r\n")),
        431
    );
}

/// Decode `input` fed in pieces of `step` bytes.
fn decode_in_steps(input: &[u8], step: usize, max: u64) -> Result<(Vec<u8>, bool), ChunkError> {
    let mut dec = ChunkedDecoder::new(max);
    let mut out = Vec::new();
    for piece in input.chunks(step.max(1)) {
        let mut rest = piece;
        while !rest.is_empty() {
            let (n, chunk) = dec.decode(rest)?;
            if let Some(Chunk::Data(d)) = chunk {
                out.extend_from_slice(d);
            }
            rest = &rest[n..];
            if dec.is_done() {
                return Ok((out, true));
            }
        }
    }
    Ok((out, dec.is_done()))
}

#[test]
fn rfc9112_7_1_chunked_decodes_at_every_split() {
    let body = b"5\r\nhello\r\n7;ext=1;q=\"x\"\r\n, world\r\n0\r\nTrailer: yes\r\n\r\n";
    for step in 1..body.len() {
        let (data, done) = decode_in_steps(body, step, 1 << 20).expect("valid");
        assert_eq!(data, b"hello, world", "step {step}");
        assert!(done);
    }
}

#[test]
fn rfc9112_7_1_chunk_size_is_hex_digits_only() {
    for bad in [
        &b"+5\r\nhello\r\n0\r\n\r\n"[..],
        b"0x5\r\nhello\r\n0\r\n\r\n",
        b"\r\n",
        b" 5\r\nhello\r\n0\r\n\r\n",
        b"5 x\r\nhello\r\n0\r\n\r\n",
    ] {
        assert!(
            decode_in_steps(bad, 64, 1 << 20).is_err(),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    assert!(
        decode_in_steps(b"5 ;a\r\nhello\r\n0\r\n\r\n", 64, 1 << 20).is_ok(),
        "BWS before ;"
    );
}

#[test]
fn rfc9112_7_1_chunk_size_overflow_is_rejected() {
    assert_eq!(
        decode_in_steps(b"10000000000000000\r\n", 64, u64::MAX),
        Err(ChunkError::SizeOverflow)
    );
}

#[test]
fn rfc9112_7_1_bare_lf_is_rejected_in_framing() {
    assert_eq!(
        decode_in_steps(b"5\nhello\r\n0\r\n\r\n", 64, 1 << 20),
        Err(ChunkError::BareLineEnding)
    );
    assert_eq!(
        decode_in_steps(b"5\r\nhello\n0\r\n\r\n", 64, 1 << 20),
        Err(ChunkError::MissingCrlf)
    );
    assert_eq!(
        decode_in_steps(b"5\r\nhelloXX0\r\n\r\n", 64, 1 << 20),
        Err(ChunkError::MissingCrlf)
    );
}

#[test]
fn rfc9112_7_1_body_limit_applies_while_decoding() {
    assert_eq!(
        decode_in_steps(b"ff\r\n", 64, 100),
        Err(ChunkError::TooLarge)
    );
}

#[test]
fn rfc9112_7_1_1_extensions_and_trailers_are_bounded() {
    let long_ext = format!("1;{}\r\nx\r\n0\r\n\r\n", "e".repeat(5000));
    assert_eq!(
        decode_in_steps(long_ext.as_bytes(), 64, 1 << 20),
        Err(ChunkError::ExtensionTooLong)
    );
    let long_trailer = format!("0\r\nX: {}\r\n\r\n", "t".repeat(9000));
    assert_eq!(
        decode_in_steps(long_trailer.as_bytes(), 64, 1 << 20),
        Err(ChunkError::TrailerTooLarge)
    );
    assert_eq!(
        decode_in_steps(b"0\r\nno colon\r\n\r\n", 64, 1 << 20),
        Err(ChunkError::BadTrailer)
    );
}
