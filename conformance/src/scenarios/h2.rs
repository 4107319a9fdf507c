//! HTTP/2 over the loop under test: many cleartext (prior knowledge)
//! connections, each sending all its requests at once as concurrent
//! streams, each stream answered with its own body. The peer is a small
//! frame-level client written here (HPACK through `loona-hpack`).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::SocketAddr;

use lws_role_http::h2::frame::{self, FrameHead, HEAD_LEN, PREFACE, flag, kind};

use crate::Runner;
use crate::peer;
use crate::scenarios::web::{web_server, with_clients};

const CONNS: usize = 20;
const STREAMS: u32 = 20;

/// One connection: `STREAMS` concurrent GETs; returns how many streams
/// came back `200` with the right body.
fn client(addr: SocketAddr, c: usize) -> usize {
    let mut s = peer::connect(addr);
    let mut out = PREFACE.to_vec();
    frame::write_settings(&mut out, &[]);
    let mut enc = loona_hpack::Encoder::new();
    for i in 0..STREAMS {
        let path = format!("/n/{}", c * 1000 + i as usize);
        let block = enc.encode([
            (&b":method"[..], &b"GET"[..]),
            (b":scheme", b"http"),
            (b":path", path.as_bytes()),
            (b":authority", b"t"),
        ]);
        frame::write_headers(&mut out, 2 * i + 1, &block, true, 16_384);
    }
    s.write_all(&out).expect("requests");
    let mut bodies: HashMap<u32, Vec<u8>> = HashMap::new();
    let mut ok_status = 0;
    let mut ended = 0;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    while ended < STREAMS {
        while let Some(h) = buf.first_chunk::<HEAD_LEN>().map(FrameHead::parse) {
            let end = HEAD_LEN + h.len as usize;
            if buf.len() < end {
                break;
            }
            let payload = &buf[HEAD_LEN..end];
            match h.kind {
                // `:status: 200` is static table entry 8, indexed.
                kind::HEADERS if payload.first() == Some(&0x88) => ok_status += 1,
                kind::DATA => bodies
                    .entry(h.stream)
                    .or_default()
                    .extend_from_slice(payload),
                kind::SETTINGS if !h.has(flag::ACK) => {
                    let mut ack = Vec::new();
                    frame::write_settings_ack(&mut ack);
                    s.write_all(&ack).expect("ack");
                }
                kind::GOAWAY => return 0,
                _ => {}
            }
            if h.has(flag::END_STREAM) && matches!(h.kind, kind::DATA | kind::HEADERS) {
                ended += 1;
            }
            buf.drain(..end);
        }
        if ended == STREAMS {
            break;
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let right = (0..STREAMS)
        .filter(|i| {
            let want = format!("reply {}", c * 1000 + *i as usize);
            bodies
                .get(&(2 * i + 1))
                .is_some_and(|b| *b == want.as_bytes())
        })
        .count();
    right.min(ok_status)
}

/// 20 connections x 20 concurrent streams, every stream answered right.
pub fn streams(run: Runner<'_>) {
    let (ctx, addr) = web_server();
    let ok = with_clients(run, ctx, CONNS, client, addr);
    assert_eq!(
        ok,
        CONNS * STREAMS as usize,
        "every stream answered with its own body"
    );
}
