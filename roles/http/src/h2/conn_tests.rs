//! Table tests for `H2Conn`, one row per RFC 9113 rule it enforces, and
//! the positive paths (requests, responses, flow control), all in
//! memory: a scripted client builds frames, the connection answers.

use loona_hpack::{Decoder, Encoder};

use super::conn::{ConnError, H2Config, H2Conn, H2Event};
use super::frame::{self, ErrorCode, FrameHead, HEAD_LEN, PREFACE, flag, kind, setting};

fn f(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    frame::write_head(&mut out, payload.len(), kind, flags, stream);
    out.extend_from_slice(payload);
    out
}

fn settings(values: &[(u16, u32)]) -> Vec<u8> {
    let mut out = Vec::new();
    frame::write_settings(&mut out, values);
    out
}

fn start() -> Vec<u8> {
    let mut v = PREFACE.to_vec();
    v.extend(settings(&[]));
    v
}

fn block(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut enc = Encoder::new();
    enc.encode(fields.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())))
}

const GET: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "http"),
    (":path", "/"),
    (":authority", "a.test"),
];

const POST: &[(&str, &str)] = &[
    (":method", "POST"),
    (":scheme", "http"),
    (":path", "/up"),
    (":authority", "a.test"),
    ("content-length", "4"),
];

fn headers(stream: u32, fields: &[(&str, &str)], flags: u8) -> Vec<u8> {
    f(
        kind::HEADERS,
        flags | flag::END_HEADERS,
        stream,
        &block(fields),
    )
}

/// Frames the server wrote, after its preface (SETTINGS, WINDOW_UPDATE).
fn frames(out: &[u8]) -> Vec<(FrameHead, Vec<u8>)> {
    let mut v = Vec::new();
    let mut rest = out;
    while let Some(h) = rest.first_chunk::<HEAD_LEN>().map(FrameHead::parse) {
        let end = HEAD_LEN + h.len as usize;
        v.push((h, rest[HEAD_LEN..end].to_vec()));
        rest = &rest[end..];
    }
    v
}

struct Run {
    result: Result<(), ConnError>,
    out: Vec<(FrameHead, Vec<u8>)>,
    events: Vec<H2Event>,
    conn: H2Conn,
}

fn run_with(cfg: H2Config, input: &[u8]) -> Run {
    let mut conn = H2Conn::new(cfg);
    conn.take_output();
    let result = conn.receive(input);
    let mut events = Vec::new();
    while let Some(e) = conn.next_event() {
        events.push(e);
    }
    let out = frames(&conn.take_output());
    Run {
        result,
        out,
        events,
        conn,
    }
}

fn run(input: &[u8]) -> Run {
    run_with(H2Config::default(), input)
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn goaway_code(out: &[(FrameHead, Vec<u8>)]) -> Option<u32> {
    out.iter()
        .find(|(h, _)| h.kind == kind::GOAWAY)
        .map(|(_, p)| u32::from_be_bytes([p[4], p[5], p[6], p[7]]))
}

fn rst_codes(out: &[(FrameHead, Vec<u8>)]) -> Vec<(u32, u32)> {
    out.iter()
        .filter(|(h, _)| h.kind == kind::RST_STREAM)
        .map(|(h, p)| (h.stream, u32::from_be_bytes([p[0], p[1], p[2], p[3]])))
        .collect()
}

/// Connection errors: (rule, input after the client preface, code).
#[test]
fn connection_error_rules() {
    let open1 = headers(1, POST, 0);
    let big = vec![0u8; 16_385];
    let mut no_end_headers = f(kind::HEADERS, 0, 1, &block(GET));
    no_end_headers.extend(f(kind::PING, 0, 0, &[0; 8]));
    let mut cont_other = f(kind::HEADERS, 0, 1, &block(GET));
    cont_other.extend(f(kind::CONTINUATION, flag::END_HEADERS, 3, &[]));
    let rows: Vec<(&str, Vec<u8>, ErrorCode)> = vec![
        (
            "§4.2 frame over MAX_FRAME_SIZE",
            f(kind::DATA, 0, 1, &big),
            ErrorCode::FrameSize,
        ),
        (
            "§6.1 DATA on stream 0",
            f(kind::DATA, 0, 0, b"x"),
            ErrorCode::Protocol,
        ),
        (
            "§5.1 DATA on an idle stream",
            f(kind::DATA, 0, 5, b"x"),
            ErrorCode::Protocol,
        ),
        (
            "§6.1 pad length >= payload",
            cat(&[&open1, &f(kind::DATA, flag::PADDED, 1, b"\x05abc")]),
            ErrorCode::Protocol,
        ),
        (
            "§6.2 HEADERS on stream 0",
            headers(0, GET, 0),
            ErrorCode::Protocol,
        ),
        (
            "§5.1.1 even stream id",
            headers(2, GET, 0),
            ErrorCode::Protocol,
        ),
        (
            "§5.1.1 stream id going back",
            cat(&[
                &headers(5, GET, flag::END_STREAM),
                &headers(3, GET, flag::END_STREAM),
            ]),
            ErrorCode::Protocol,
        ),
        (
            "§5.1 HEADERS on a closed stream",
            cat(&[
                &headers(1, GET, flag::END_STREAM),
                &f(kind::RST_STREAM, 0, 1, &[0; 4]),
                &headers(1, GET, flag::END_STREAM),
            ]),
            ErrorCode::StreamClosed,
        ),
        (
            "§6.10 CONTINUATION without HEADERS",
            f(kind::CONTINUATION, flag::END_HEADERS, 1, &[]),
            ErrorCode::Protocol,
        ),
        (
            "§6.10 header block interrupted",
            no_end_headers,
            ErrorCode::Protocol,
        ),
        (
            "§6.10 CONTINUATION on another stream",
            cont_other,
            ErrorCode::Protocol,
        ),
        (
            "§4.3 bad HPACK",
            f(
                kind::HEADERS,
                flag::END_HEADERS,
                1,
                b"\xff\xff\xff\xff\xff\xff",
            ),
            ErrorCode::Compression,
        ),
        (
            "§6.5 SETTINGS on a stream",
            f(kind::SETTINGS, 0, 1, &[]),
            ErrorCode::Protocol,
        ),
        (
            "§6.5 SETTINGS ACK with payload",
            f(kind::SETTINGS, flag::ACK, 0, &[0; 6]),
            ErrorCode::FrameSize,
        ),
        (
            "§6.5 SETTINGS length",
            f(kind::SETTINGS, 0, 0, &[0; 5]),
            ErrorCode::FrameSize,
        ),
        (
            "§6.5.2 ENABLE_PUSH 2",
            settings(&[(setting::ENABLE_PUSH, 2)]),
            ErrorCode::Protocol,
        ),
        (
            "§6.5.2 INITIAL_WINDOW_SIZE 2^31",
            settings(&[(setting::INITIAL_WINDOW_SIZE, 1 << 31)]),
            ErrorCode::FlowControl,
        ),
        (
            "§6.5.2 MAX_FRAME_SIZE too small",
            settings(&[(setting::MAX_FRAME_SIZE, 16_383)]),
            ErrorCode::Protocol,
        ),
        (
            "§6.5.2 MAX_FRAME_SIZE too large",
            settings(&[(setting::MAX_FRAME_SIZE, 1 << 24)]),
            ErrorCode::Protocol,
        ),
        (
            "§6.6 PUSH_PROMISE from a client",
            f(kind::PUSH_PROMISE, flag::END_HEADERS, 1, &[0; 4]),
            ErrorCode::Protocol,
        ),
        (
            "§6.7 PING on a stream",
            f(kind::PING, 0, 1, &[0; 8]),
            ErrorCode::Protocol,
        ),
        (
            "§6.7 PING length",
            f(kind::PING, 0, 0, &[0; 7]),
            ErrorCode::FrameSize,
        ),
        (
            "§6.8 GOAWAY on a stream",
            f(kind::GOAWAY, 0, 1, &[0; 8]),
            ErrorCode::Protocol,
        ),
        (
            "§6.9 WINDOW_UPDATE of 0 (connection)",
            f(kind::WINDOW_UPDATE, 0, 0, &[0; 4]),
            ErrorCode::Protocol,
        ),
        (
            "§6.9 WINDOW_UPDATE length",
            f(kind::WINDOW_UPDATE, 0, 0, &[0; 3]),
            ErrorCode::FrameSize,
        ),
        (
            "§6.9.1 connection window overflow",
            f(kind::WINDOW_UPDATE, 0, 0, &0x7fff_ffffu32.to_be_bytes()),
            ErrorCode::FlowControl,
        ),
        (
            "§5.1 WINDOW_UPDATE on an idle stream",
            f(kind::WINDOW_UPDATE, 0, 9, &1u32.to_be_bytes()),
            ErrorCode::Protocol,
        ),
        (
            "§6.4 RST_STREAM on stream 0",
            f(kind::RST_STREAM, 0, 0, &[0; 4]),
            ErrorCode::Protocol,
        ),
        (
            "§6.4 RST_STREAM on an idle stream",
            f(kind::RST_STREAM, 0, 7, &[0; 4]),
            ErrorCode::Protocol,
        ),
        (
            "§6.4 RST_STREAM length",
            cat(&[&open1, &f(kind::RST_STREAM, 0, 1, &[0; 3])]),
            ErrorCode::FrameSize,
        ),
        (
            "§6.3 PRIORITY on stream 0",
            f(kind::PRIORITY, 0, 0, &[0; 5]),
            ErrorCode::Protocol,
        ),
    ];
    for (rule, input, code) in rows {
        let r = run(&cat(&[&start(), &input]));
        assert_eq!(r.result.as_ref().map_err(|e| e.code), Err(code), "{rule}");
        assert_eq!(
            goaway_code(&r.out),
            Some(code as u32),
            "{rule}: GOAWAY sent"
        );
        assert!(r.conn.finished(), "{rule}: connection finished");
    }
}

#[test]
fn preface_rules() {
    let r = run(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(
        r.result.map_err(|e| e.code),
        Err(ErrorCode::Protocol),
        "bad preface"
    );
    let r = run(&cat(&[PREFACE, &f(kind::PING, 0, 0, &[0; 8])]));
    assert_eq!(
        r.result.map_err(|e| e.why),
        Err("first frame is not SETTINGS")
    );
    let r = run(&PREFACE[..10]);
    assert!(
        r.result.is_ok() && r.out.is_empty(),
        "a partial preface waits"
    );
}

/// Stream errors: (rule, input, stream, code); the connection goes on.
#[test]
fn stream_error_rules() {
    let small = H2Config {
        max_concurrent_streams: 1,
        stream_window: 10,
        ..H2Config::default()
    };
    let mut upper = GET.to_vec();
    upper.push(("Accept", "x"));
    let no_path: Vec<_> = GET.iter().copied().filter(|f| f.0 != ":path").collect();
    let mut conn_hdr = GET.to_vec();
    conn_hdr.push(("connection", "close"));
    let mut self_dep = vec![0, 0, 0, 1, 16];
    self_dep.extend(block(GET));
    let open1 = headers(1, POST, 0);
    let rows: Vec<(&str, H2Config, Vec<u8>, u32, ErrorCode)> = vec![
        (
            "§8.2 upper-case field name",
            H2Config::default(),
            headers(1, &upper, flag::END_STREAM),
            1,
            ErrorCode::Protocol,
        ),
        (
            "§8.3.1 :path missing",
            H2Config::default(),
            headers(1, &no_path, flag::END_STREAM),
            1,
            ErrorCode::Protocol,
        ),
        (
            "§8.2.2 connection-specific field",
            H2Config::default(),
            headers(1, &conn_hdr, flag::END_STREAM),
            1,
            ErrorCode::Protocol,
        ),
        (
            "§8.1.1 DATA shorter than content-length",
            H2Config::default(),
            cat(&[&open1, &f(kind::DATA, flag::END_STREAM, 1, b"ab")]),
            1,
            ErrorCode::Protocol,
        ),
        (
            "§8.1.1 DATA longer than content-length",
            H2Config::default(),
            cat(&[&open1, &f(kind::DATA, 0, 1, b"abcdef")]),
            1,
            ErrorCode::Protocol,
        ),
        (
            "§5.1 DATA after END_STREAM",
            H2Config::default(),
            cat(&[
                &headers(1, GET, flag::END_STREAM),
                &f(kind::DATA, 0, 1, b"x"),
            ]),
            1,
            ErrorCode::StreamClosed,
        ),
        (
            "§5.3.1 stream depending on itself",
            H2Config::default(),
            f(
                kind::HEADERS,
                flag::END_HEADERS | flag::PRIORITY | flag::END_STREAM,
                1,
                &self_dep,
            ),
            1,
            ErrorCode::Protocol,
        ),
        (
            "§6.3 PRIORITY length",
            H2Config::default(),
            f(kind::PRIORITY, 0, 3, &[0; 4]),
            3,
            ErrorCode::FrameSize,
        ),
        (
            "§6.9 WINDOW_UPDATE of 0 on a stream",
            H2Config::default(),
            cat(&[&open1, &f(kind::WINDOW_UPDATE, 0, 1, &[0; 4])]),
            1,
            ErrorCode::Protocol,
        ),
        (
            "§6.9.1 stream window overflow",
            H2Config::default(),
            cat(&[
                &open1,
                &f(kind::WINDOW_UPDATE, 0, 1, &0x7fff_ffffu32.to_be_bytes()),
            ]),
            1,
            ErrorCode::FlowControl,
        ),
        (
            "§5.1.2 over MAX_CONCURRENT_STREAMS",
            small,
            cat(&[&open1, &headers(3, GET, flag::END_STREAM)]),
            3,
            ErrorCode::RefusedStream,
        ),
        (
            "§6.9.1 DATA beyond the stream window",
            small,
            cat(&[&headers(1, &POST[..4], 0), &f(kind::DATA, 0, 1, &[0; 11])]),
            1,
            ErrorCode::FlowControl,
        ),
        (
            "§8.1 trailers without END_STREAM",
            H2Config::default(),
            cat(&[&open1, &headers(1, &[("x-t", "1")], 0)]),
            1,
            ErrorCode::Protocol,
        ),
    ];
    for (rule, cfg, input, stream, code) in rows {
        let mut r = run_with(cfg, &cat(&[&start(), &input]));
        assert!(
            r.result.is_ok(),
            "{rule}: not a connection error: {:?}",
            r.result
        );
        assert!(
            rst_codes(&r.out).contains(&(stream, code as u32)),
            "{rule}: RST_STREAM {code:?} on {stream}, got {:?}",
            rst_codes(&r.out)
        );
        // The connection still answers.
        r.conn
            .receive(&f(kind::PING, 0, 0, b"stillok!"))
            .expect("ping");
        let out = frames(&r.conn.take_output());
        assert!(
            out.iter()
                .any(|(h, p)| h.kind == kind::PING && p == b"stillok!"),
            "{rule}"
        );
    }
}

#[test]
fn get_request_and_response_with_hpack() {
    let mut r = run(&cat(&[&start(), &headers(1, GET, flag::END_STREAM)]));
    assert!(r.result.is_ok());
    assert!(
        r.out
            .iter()
            .any(|(h, _)| h.kind == kind::SETTINGS && h.has(flag::ACK)),
        "SETTINGS acked"
    );
    match &r.events[..] {
        [
            H2Event::Request {
                stream: 1,
                head: Ok(h),
            },
            H2Event::End { stream: 1 },
        ] => {
            assert_eq!((h.method.as_str(), h.target.as_str()), ("GET", "/"));
            assert_eq!(h.host.as_deref(), Some("a.test"));
        }
        other => panic!("events: {other:?}"),
    }
    r.conn
        .send_head(
            1,
            200,
            &[("Content-Type", "text/plain"), ("Connection", "close")],
            false,
        )
        .expect("head");
    r.conn.send_data(1, b"hello", true).expect("data");
    let out = frames(&r.conn.take_output());
    let (hh, block) = &out[0];
    assert_eq!(
        (hh.kind, hh.stream, hh.flags),
        (kind::HEADERS, 1, flag::END_HEADERS)
    );
    let fields = Decoder::new().decode(block).expect("hpack");
    assert_eq!(
        fields,
        vec![
            (b":status".to_vec(), b"200".to_vec()),
            (b"content-type".to_vec(), b"text/plain".to_vec()),
        ],
        "lower-case names, connection-specific fields dropped"
    );
    assert_eq!(
        (out[1].0.kind, out[1].0.flags, out[1].1.as_slice()),
        (kind::DATA, flag::END_STREAM, &b"hello"[..])
    );
    assert_eq!(r.conn.active_streams(), 0, "both sides ended: stream gone");
    assert!(
        r.conn.send_data(1, b"late", false).is_err(),
        "closed stream refuses data"
    );
}

#[test]
fn ping_settings_and_unknown_frames() {
    let r = run(&cat(&[
        &start(),
        &f(kind::PING, 0, 0, b"12345678"),
        &f(0xfa, 0, 0, b"whatever"),
        &f(kind::PING, flag::ACK, 0, b"ignored!"),
    ]));
    assert!(r.result.is_ok());
    let pings: Vec<_> = r.out.iter().filter(|(h, _)| h.kind == kind::PING).collect();
    assert_eq!(pings.len(), 1, "ACKs are not answered");
    assert_eq!(
        (pings[0].0.flags, pings[0].1.as_slice()),
        (flag::ACK, &b"12345678"[..])
    );
}

#[test]
fn send_window_holds_data_until_window_update() {
    let input = cat(&[
        PREFACE,
        &settings(&[(setting::INITIAL_WINDOW_SIZE, 10)]),
        &headers(1, GET, flag::END_STREAM),
    ]);
    let mut r = run(&input);
    r.conn.send_head(1, 200, &[], false).expect("head");
    r.conn.send_data(1, &[7u8; 25], true).expect("data");
    let sent: usize = frames(&r.conn.take_output())
        .iter()
        .filter(|(h, _)| h.kind == kind::DATA)
        .map(|(h, _)| h.len as usize)
        .sum();
    assert_eq!(sent, 10, "only the stream window");
    assert_eq!(r.conn.pending(1), 15);
    r.conn
        .receive(&f(kind::WINDOW_UPDATE, 0, 1, &10u32.to_be_bytes()))
        .expect("wu");
    assert!(matches!(r.conn.next_event(), Some(H2Event::WindowOpened)));
    let out = frames(&r.conn.take_output());
    assert_eq!(
        out.iter()
            .filter(|(h, _)| h.kind == kind::DATA)
            .map(|(h, _)| h.len)
            .sum::<u32>(),
        10
    );
    r.conn
        .receive(&settings(&[(setting::INITIAL_WINDOW_SIZE, 100)]))
        .expect("settings");
    let out = frames(&r.conn.take_output());
    let last = out
        .iter()
        .rfind(|(h, _)| h.kind == kind::DATA)
        .expect("rest sent");
    assert_eq!(
        (last.0.len, last.0.flags),
        (5, flag::END_STREAM),
        "a window increase via SETTINGS flushes"
    );
    assert_eq!(r.conn.pending(1), 0);
}

#[test]
fn data_is_split_at_the_peer_frame_size() {
    let input = cat(&[
        PREFACE,
        &settings(&[(setting::INITIAL_WINDOW_SIZE, 1 << 20)]),
        &f(kind::WINDOW_UPDATE, 0, 0, &(1u32 << 20).to_be_bytes()),
        &headers(1, GET, flag::END_STREAM),
    ]);
    let mut r = run(&input);
    r.conn.send_head(1, 200, &[], false).expect("head");
    r.conn.send_data(1, &vec![1u8; 40_000], true).expect("data");
    let lens: Vec<u32> = frames(&r.conn.take_output())
        .iter()
        .filter(|(h, _)| h.kind == kind::DATA)
        .map(|(h, _)| h.len)
        .collect();
    assert_eq!(lens, vec![16_384, 16_384, 7_232]);
}

#[test]
fn request_body_flow_and_window_release() {
    let cfg = H2Config {
        stream_window: 8,
        ..H2Config::default()
    };
    let post: Vec<_> = POST[..4].to_vec();
    let mut r = run_with(
        cfg,
        &cat(&[
            &start(),
            &headers(1, &post, 0),
            &f(kind::DATA, flag::PADDED, 1, b"\x02abcd\0\0"),
        ]),
    );
    assert!(r.result.is_ok(), "{:?}", r.result);
    assert!(matches!(&r.events[1], H2Event::Data { stream: 1, data } if data == b"abcd"));
    r.conn.release(1, 4);
    let out = frames(&r.conn.take_output());
    let wu: Vec<_> = out
        .iter()
        .filter(|(h, _)| h.kind == kind::WINDOW_UPDATE && h.stream == 1)
        .collect();
    assert_eq!(wu.len(), 1, "half the stream window consumed: reopened");
    r.conn
        .receive(&f(kind::DATA, flag::END_STREAM, 1, b"efgh"))
        .expect("data within the reopened window");
    let evs: Vec<_> = std::iter::from_fn(|| r.conn.next_event()).collect();
    assert!(
        matches!(&evs[..], [H2Event::Data { .. }, H2Event::End { stream: 1 }]),
        "{evs:?}"
    );
}

#[test]
fn trailers_end_the_request_and_peer_reset_is_reported() {
    let r = run(&cat(&[
        &start(),
        &headers(1, POST, 0),
        &f(kind::DATA, 0, 1, b"abcd"),
        &headers(1, &[("x-checksum", "1")], flag::END_STREAM),
    ]));
    assert!(r.result.is_ok());
    assert!(matches!(r.events.last(), Some(H2Event::End { stream: 1 })));
    let r = run(&cat(&[
        &start(),
        &headers(1, POST, 0),
        &f(kind::RST_STREAM, 0, 1, &8u32.to_be_bytes()),
    ]));
    assert!(matches!(
        r.events.last(),
        Some(H2Event::Reset {
            stream: 1,
            code: ErrorCode::Cancel
        })
    ));
    assert_eq!(r.conn.active_streams(), 0);
}

#[test]
fn limits_answer_with_status_and_goaway_refuses_new_streams() {
    let long_path = format!("/{}", "a".repeat(9000));
    let mut fields = GET.to_vec();
    fields[2] = (":path", long_path.as_str());
    let r = run(&cat(&[&start(), &headers(1, &fields, flag::END_STREAM)]));
    assert!(matches!(
        r.events.first(),
        Some(H2Event::Request {
            stream: 1,
            head: Err(414)
        })
    ));
    let mut r = run(&cat(&[&start(), &headers(1, POST, 0)]));
    r.conn.shutdown();
    r.conn
        .receive(&headers(3, GET, flag::END_STREAM))
        .expect("refused, not fatal");
    let out = frames(&r.conn.take_output());
    assert_eq!(goaway_code(&out), Some(0), "graceful GOAWAY");
    assert!(rst_codes(&out).contains(&(3, ErrorCode::RefusedStream as u32)));
    assert!(!r.conn.finished(), "stream 1 still open");
}

#[test]
fn oversize_header_block_is_refused() {
    let cfg = H2Config {
        max_header_block: 100,
        ..H2Config::default()
    };
    let mut input = start();
    input.extend(f(kind::HEADERS, 0, 1, &[0x82; 60]));
    input.extend(f(kind::CONTINUATION, 0, 1, &[0x82; 60]));
    let r = run_with(cfg, &input);
    assert_eq!(
        r.result.map_err(|e| e.code),
        Err(ErrorCode::EnhanceYourCalm)
    );
}

/// Arbitrary bytes after a valid preface never panic, and the connection
/// either keeps going or ends with a GOAWAY.
#[test]
fn arbitrary_input_never_panics() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..3000 {
        let mut input = start();
        let n = (seed % 200) as usize;
        for _ in 0..n {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            input.push((seed >> 24) as u8);
        }
        let r = run(&input);
        if r.result.is_err() {
            assert!(goaway_code(&r.out).is_some());
        }
    }
}

#[test]
fn rapid_reset_and_empty_continuation_floods_end_the_connection() {
    // CVE-2023-44487: open a stream, reset it, repeat.
    let mut input = start();
    for i in 0..300u32 {
        let id = 2 * i + 1;
        input.extend(headers(id, POST, 0));
        input.extend(f(kind::RST_STREAM, 0, id, &8u32.to_be_bytes()));
    }
    let r = run(&input);
    assert_eq!(
        r.result.map_err(|e| e.code),
        Err(ErrorCode::EnhanceYourCalm)
    );
    // Streams that complete are not counted against the client.
    let mut input = start();
    for i in 0..300u32 {
        input.extend(headers(2 * i + 1, GET, flag::END_STREAM));
    }
    assert!(run(&input).result.is_ok());
    // Empty CONTINUATION frames cost no bytes but still end the block.
    let mut input = start();
    input.extend(f(kind::HEADERS, 0, 1, &block(GET)));
    for _ in 0..100 {
        input.extend(f(kind::CONTINUATION, 0, 1, &[]));
    }
    let r = run(&input);
    assert_eq!(
        r.result.map_err(|e| e.code),
        Err(ErrorCode::EnhanceYourCalm)
    );
}

#[test]
fn parked_bytes_are_counted_per_connection_and_released() {
    let cfg = H2Config {
        max_parked: 100,
        ..H2Config::default()
    };
    let input = cat(&[
        PREFACE,
        &settings(&[(setting::INITIAL_WINDOW_SIZE, 0)]),
        &headers(1, GET, flag::END_STREAM),
        &headers(3, GET, flag::END_STREAM),
    ]);
    let mut r = run_with(cfg, &input);
    assert!(r.conn.may_park(1000), "one write may cross an empty cap");
    for id in [1, 3] {
        r.conn.send_head(id, 200, &[], false).expect("head");
    }
    r.conn.send_data(1, &[1; 30], false).expect("data");
    r.conn.send_data(1, &[2; 30], false).expect("data");
    r.conn.send_data(3, &[3; 10], false).expect("data");
    assert_eq!((r.conn.parked(), r.conn.pending(1)), (70, 60));
    assert!(r.conn.may_park(30) && !r.conn.may_park(31) && !r.conn.at_cap());
    assert!(
        r.conn.may_start(),
        "one more write as large as the largest fits"
    );
    r.conn.send_data(3, &[3; 10], false).expect("data");
    assert!(!r.conn.may_start(), "now it would not");
    // A 45-byte window on stream 1 sends across its two parked chunks.
    let sent = r.conn.data_sent();
    r.conn
        .receive(&f(kind::WINDOW_UPDATE, 0, 1, &45u32.to_be_bytes()))
        .expect("window");
    let out = frames(&r.conn.take_output());
    let data: Vec<u8> = out
        .iter()
        .filter(|(h, _)| h.kind == kind::DATA)
        .flat_map(|(_, p)| p.clone())
        .collect();
    assert_eq!(data, [vec![1; 30], vec![2; 15]].concat());
    assert_eq!((r.conn.parked(), r.conn.data_sent() - sent), (35, 45));
    r.conn.reset(1, ErrorCode::Cancel);
    assert_eq!(r.conn.parked(), 20, "a reset stream's bytes are dropped");
    r.conn.fail(ErrorCode::EnhanceYourCalm, "stalled");
    assert_eq!(r.conn.parked(), 0);
    assert!(r.conn.failed() && r.conn.finished());
    assert!(
        r.conn.send_data(3, b"late", false).is_err(),
        "nothing after GOAWAY"
    );
    assert_eq!(goaway_code(&frames(&r.conn.take_output())), Some(0xb));
}
