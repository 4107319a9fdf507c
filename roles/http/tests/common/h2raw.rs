//! A raw HTTP/2 client for tests: writes frames as given (hostile or
//! not), reads the server's frames back. No flow control of its own.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use lws_role_http::h2::frame::{self, FrameHead, HEAD_LEN, PREFACE, flag, kind};

/// A raw HTTP/2 client: writes frames, reads the server's frames until
/// it closes or a `want`ed frame arrives.
pub struct Raw {
    s: TcpStream,
    /// Bytes read past the last frame returned.
    buf: Vec<u8>,
    /// The connection's response header decoder (its table persists).
    dec: loona_hpack::Decoder<'static>,
    /// The server closed the connection (a read returned 0).
    pub eof: bool,
}

impl Raw {
    pub fn connect(addr: SocketAddr) -> Raw {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        Raw {
            s,
            buf: Vec::new(),
            dec: loona_hpack::Decoder::new(),
            eof: false,
        }
    }

    /// Connect and send the preface with `settings`.
    pub fn handshake(addr: SocketAddr, settings: &[(u16, u32)]) -> Raw {
        let mut c = Raw::connect(addr);
        let mut hello = PREFACE.to_vec();
        frame::write_settings(&mut hello, settings);
        c.send(&hello);
        c
    }

    pub fn send(&mut self, bytes: &[u8]) {
        let _ = self.s.write_all(bytes);
    }

    /// Frames received until `stop` matches one, or the server closes
    /// (then `eof` is set), or 10 s pass without a byte.
    pub fn until(&mut self, stop: impl Fn(&FrameHead) -> bool) -> Vec<(FrameHead, Vec<u8>)> {
        let mut buf = std::mem::take(&mut self.buf);
        let mut frames = Vec::new();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            while let Some(h) = buf.first_chunk::<HEAD_LEN>().map(FrameHead::parse) {
                let end = HEAD_LEN + h.len as usize;
                if buf.len() < end {
                    break;
                }
                let payload = buf[HEAD_LEN..end].to_vec();
                buf.drain(..end);
                let done = stop(&h);
                frames.push((h, payload));
                if done {
                    self.buf = buf;
                    return frames;
                }
            }
            match self.s.read(&mut chunk) {
                Ok(0) => {
                    self.eof = true;
                    return frames;
                }
                Err(_) => return frames,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// A PING round trip: every frame sent before it has been handled
    /// (handlers included) once its ACK is back. The frames before it.
    pub fn sync(&mut self, tag: &[u8; 8]) -> Vec<(FrameHead, Vec<u8>)> {
        self.send(&raw_frame(kind::PING, 0, 0, tag));
        self.until(|h| h.kind == kind::PING && h.has(flag::ACK))
    }
}

pub fn raw_frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    frame::write_head(&mut out, payload.len(), kind, flags, stream);
    out.extend_from_slice(payload);
    out
}

pub fn goaway(frames: &[(FrameHead, Vec<u8>)]) -> Option<u32> {
    frames
        .iter()
        .find(|(h, _)| h.kind == kind::GOAWAY)
        .map(|(_, p)| u32::from_be_bytes([p[4], p[5], p[6], p[7]]))
}

/// An HPACK header block for `method path`.
pub fn request_block(method: &str, path: &str) -> Vec<u8> {
    loona_hpack::Encoder::new().encode([
        (&b":method"[..], method.as_bytes()),
        (b":scheme", b"http"),
        (b":path", path.as_bytes()),
        (b":authority", b"t"),
    ])
}

pub fn hello() -> Vec<u8> {
    let mut v = PREFACE.to_vec();
    v.extend(raw_frame(kind::SETTINGS, 0, 0, &[]));
    v
}

/// An HPACK header block of exactly `fields` (pseudo-headers included).
pub fn block(fields: &[(&str, &str)]) -> Vec<u8> {
    loona_hpack::Encoder::new().encode(fields.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())))
}

/// A response as the raw client saw it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        let found = self.headers.iter().find(|(n, _)| n == name);
        found.map(|(_, v)| v.as_str())
    }
}

impl Raw {
    /// Send one request on `stream` (`body`: one DATA frame ending it)
    /// and read its response until END_STREAM or a reset.
    pub fn request(&mut self, stream: u32, head: &[u8], body: Option<&[u8]>) -> Reply {
        let flags = flag::END_HEADERS | if body.is_none() { flag::END_STREAM } else { 0 };
        self.send(&raw_frame(kind::HEADERS, flags, stream, head));
        if let Some(b) = body {
            self.send(&raw_frame(kind::DATA, flag::END_STREAM, stream, b));
        }
        let frames = self.until(|h| {
            h.stream == stream
                && (h.kind == kind::RST_STREAM
                    || (h.has(flag::END_STREAM) && matches!(h.kind, kind::HEADERS | kind::DATA)))
        });
        let mut reply = Reply {
            status: 0,
            headers: Vec::new(),
            body: Vec::new(),
        };
        let mine = frames.iter().filter(|(h, _)| h.stream == stream);
        for (h, p) in mine {
            match h.kind {
                kind::HEADERS => {
                    let list = self.dec.decode(p).expect("hpack");
                    for (n, v) in list {
                        let (n, v) = (String::from_utf8_lossy(&n), String::from_utf8_lossy(&v));
                        match &*n {
                            ":status" => reply.status = v.parse().unwrap_or(0),
                            _ => reply.headers.push((n.into_owned(), v.into_owned())),
                        }
                    }
                }
                kind::DATA => reply.body.extend_from_slice(p),
                _ => {}
            }
        }
        reply
    }
}

/// One request on a fresh connection.
pub fn request(addr: SocketAddr, head: &[u8], body: Option<&[u8]>) -> Reply {
    let mut c = Raw::connect(addr);
    c.send(&hello());
    c.request(1, head, body)
}
