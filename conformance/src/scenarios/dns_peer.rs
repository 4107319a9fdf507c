//! A scripted DNS server for the DNS scenarios: a UDP responder on an
//! ephemeral loopback port (plus TCP on the same port when it truncates),
//! written with std sockets on its own threads, that records the names
//! asked. It answers only what the scenarios need and must not grow into a
//! general server (dnsmasq covers that in the resolver's own tests).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use super::dns::NAME;

/// How the responder behaves.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Script {
    /// A for [`NAME`], empty NOERROR for its other types, NXDOMAIN else.
    Answer,
    /// Reads queries and never answers.
    Silent,
    /// Over UDP only truncated (TC) empty answers; over TCP on the same
    /// port what `Answer` sends.
    Truncate,
}

/// A DNS server on an ephemeral loopback UDP port, on its own thread.
pub(super) struct Responder {
    pub addr: SocketAddr,
    asked: Arc<Mutex<Vec<String>>>,
    /// Each name asked, as it arrives.
    pub seen: mpsc::Receiver<String>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
    tcp_thread: Option<thread::JoinHandle<()>>,
}

/// A UDP socket on an ephemeral loopback port and, if asked, a TCP
/// listener on the same port (a few ports are tried if one is taken).
fn bind_pair(tcp: bool) -> (UdpSocket, Option<TcpListener>) {
    for _ in 0..20 {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind responder");
        if !tcp {
            return (udp, None);
        }
        let port = udp.local_addr().expect("addr").port();
        if let Ok(l) = TcpListener::bind(("127.0.0.1", port)) {
            return (udp, Some(l));
        }
    }
    panic!("no port free for both UDP and TCP");
}

/// Answer DNS over TCP (length-prefixed) until `stop`.
fn serve_tcp(l: TcpListener, asked: &Mutex<Vec<String>>, stop: &AtomicBool) {
    l.set_nonblocking(true).expect("nonblocking");
    while !stop.load(Ordering::Relaxed) {
        let mut s = match l.accept() {
            Ok((s, _)) => s,
            Err(_) => {
                thread::sleep(Duration::from_millis(5));
                continue;
            }
        };
        let _ = s.set_nonblocking(false);
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let mut len = [0u8; 2];
        if s.read_exact(&mut len).is_err() {
            continue;
        }
        let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
        if s.read_exact(&mut msg).is_err() {
            continue;
        }
        let Some((name, qtype, qend)) = parse_query(&msg) else {
            continue;
        };
        asked.lock().expect("asked").push(format!("tcp:{name}"));
        let reply = answer(&msg[..qend], &name, qtype);
        let mut framed = (reply.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&reply);
        let _ = s.write_all(&framed);
    }
}

impl Responder {
    pub fn start(script: Script) -> Responder {
        let (sock, tcp) = bind_pair(script == Script::Truncate);
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        let addr = sock.local_addr().expect("addr");
        let asked = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, seen) = mpsc::channel();
        let (a, s) = (asked.clone(), stop.clone());
        let thread = thread::spawn(move || {
            let mut buf = [0u8; 1500];
            while !s.load(Ordering::Relaxed) {
                let Ok((n, from)) = sock.recv_from(&mut buf) else {
                    continue;
                };
                let Some((name, qtype, qend)) = parse_query(&buf[..n]) else {
                    continue;
                };
                a.lock().expect("asked").push(name.clone());
                let _ = tx.send(name.clone());
                match script {
                    Script::Silent => continue,
                    Script::Truncate => {
                        let mut r = buf[..qend].to_vec();
                        r[2] = 0x82 | (buf[2] & 0x01); // QR, TC, RD copied
                        r[3] = 0x80;
                        r[6..12].fill(0);
                        let _ = sock.send_to(&r, from);
                    }
                    Script::Answer => {
                        let _ = sock.send_to(&answer(&buf[..qend], &name, qtype), from);
                    }
                }
            }
        });
        let tcp_thread = tcp.map(|l| {
            let (a, s) = (asked.clone(), stop.clone());
            thread::spawn(move || serve_tcp(l, &a, &s))
        });
        Responder {
            addr,
            asked,
            seen,
            stop,
            thread: Some(thread),
            tcp_thread,
        }
    }

    pub fn asked(&self) -> Vec<String> {
        self.asked.lock().expect("asked").clone()
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in [self.thread.take(), self.tcp_thread.take()]
            .into_iter()
            .flatten()
        {
            let _ = t.join();
        }
    }
}

/// The question's name (lower case), type and where the question ends.
fn parse_query(msg: &[u8]) -> Option<(String, u16, usize)> {
    if msg.len() < 12 || msg[2] & 0x80 != 0 || msg[4..6] != [0, 1] {
        return None;
    }
    let mut labels = Vec::new();
    let mut i = 12;
    loop {
        let len = *msg.get(i)? as usize;
        i += 1;
        if len == 0 {
            break;
        }
        if len > 63 {
            return None;
        }
        labels.push(String::from_utf8_lossy(msg.get(i..i + len)?).to_ascii_lowercase());
        i += len;
    }
    let qtype = u16::from_be_bytes([*msg.get(i)?, *msg.get(i + 1)?]);
    let end = i + 4;
    (msg.len() >= end).then(|| (labels.join("."), qtype, end))
}

/// The reply to `query` (header and question, as received).
fn answer(query: &[u8], name: &str, qtype: u16) -> Vec<u8> {
    let known = name == NAME;
    let with_a = known && qtype == 1;
    let mut r = query.to_vec();
    r[2] = 0x80 | (query[2] & 0x01); // QR, opcode 0, RD copied
    r[3] = 0x80 | if known { 0 } else { 3 }; // RA; NOERROR or NXDOMAIN
    r[6..12].copy_from_slice(&[0, u8::from(with_a), 0, 0, 0, 0]);
    if with_a {
        // Name pointer to the question, A, IN, TTL 60, 4 bytes.
        r.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1]);
    }
    r
}
