//! Arbitrary frames after a valid HTTP/2 preface, fed to the server
//! connection in pieces of a fuzzed size, with every request answered
//! and every body released, so both the receive and the send paths run.
//! Must never panic; a connection error must leave it finished.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lws_role_http::h2::frame::PREFACE;
use lws_role_http::h2::{H2Config, H2Conn, H2Event};

fuzz_target!(|data: &[u8]| {
    let Some((&split, frames)) = data.split_first() else {
        return;
    };
    let cfg = H2Config {
        max_concurrent_streams: 4,
        stream_window: 1024,
        max_header_block: 4096,
        ..H2Config::default()
    };
    let mut conn = H2Conn::new(cfg);
    let mut input = PREFACE.to_vec();
    input.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]); // empty SETTINGS
    input.extend_from_slice(frames);
    for piece in input.chunks(usize::from(split).max(1)) {
        let r = conn.receive(piece);
        while let Some(ev) = conn.next_event() {
            match ev {
                H2Event::Request { stream, head } => {
                    let status = if head.is_ok() { 200 } else { 400 };
                    let _ = conn.send_head(stream, status, &[("x", "y")], false);
                    let _ = conn.send_data(stream, &[b'z'; 3000], true);
                }
                H2Event::Data { stream, data } => conn.release(stream, data.len()),
                _ => {}
            }
        }
        let _ = conn.take_output();
        if r.is_err() {
            assert!(conn.finished());
            break;
        }
    }
});
