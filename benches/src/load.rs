//! A closed-loop echo load client: N connections, each with one message in
//! flight; M messages each of S bytes. Measures throughput and per-message
//! round-trip latency (write of the first byte to read of the last).

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

#[derive(Debug)]
pub struct Load {
    pub conns: usize,
    pub messages: usize,
    pub size: usize,
}

#[derive(Debug)]
pub struct Figures {
    pub messages: u64,
    pub elapsed: Duration,
    pub latency: Histogram<u64>,
}

impl Figures {
    pub fn rate(&self) -> f64 {
        self.messages as f64 / self.elapsed.as_secs_f64()
    }

    pub fn p(&self, q: f64) -> u64 {
        self.latency.value_at_quantile(q)
    }
}

struct Conn {
    sock: TcpStream,
    sent_at: Instant,
    written: usize,
    read: usize,
    done: usize,
}

/// Run the load against `addr`; panics (with the reason) on a wrong echo.
pub fn run(addr: SocketAddr, load: &Load) -> io::Result<Figures> {
    let mut poll = Poll::new()?;
    let payload: Vec<u8> = (0..load.size).map(|i| (i % 251) as u8).collect();
    let mut conns = Vec::with_capacity(load.conns);
    for i in 0..load.conns {
        let std = std::net::TcpStream::connect(addr)?;
        std.set_nodelay(true)?;
        std.set_nonblocking(true)?;
        let mut sock = TcpStream::from_std(std);
        poll.registry()
            .register(&mut sock, Token(i), Interest::READABLE | Interest::WRITABLE)?;
        conns.push(Conn {
            sock,
            sent_at: Instant::now(),
            written: 0,
            read: 0,
            done: 0,
        });
    }
    let mut latency =
        Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).map_err(io::Error::other)?;
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; load.size.max(64 * 1024)];
    let mut finished = 0;
    let start = Instant::now();
    for c in &mut conns {
        c.sent_at = Instant::now();
        pump_write(c, &payload)?;
    }
    while finished < load.conns {
        poll.poll(&mut events, Some(Duration::from_secs(30)))?;
        if events.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no progress for 30 s",
            ));
        }
        for ev in events.iter() {
            let c = &mut conns[ev.token().0];
            if c.done == load.messages {
                continue;
            }
            if ev.is_writable() {
                pump_write(c, &payload)?;
            }
            if ev.is_readable() && pump_read(c, &mut buf, &payload, load, &mut latency)? {
                finished += 1;
            }
        }
    }
    Ok(Figures {
        messages: (load.conns * load.messages) as u64,
        elapsed: start.elapsed(),
        latency,
    })
}

fn pump_write(c: &mut Conn, payload: &[u8]) -> io::Result<()> {
    while c.written < payload.len() {
        match c.sock.write(&payload[c.written..]) {
            Ok(n) => c.written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Read what is there (edge-triggered: until WouldBlock); `true` when this
/// connection has finished all its messages.
fn pump_read(
    c: &mut Conn,
    buf: &mut [u8],
    payload: &[u8],
    load: &Load,
    latency: &mut Histogram<u64>,
) -> io::Result<bool> {
    loop {
        match c.sock.read(buf) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "server closed",
                ));
            }
            Ok(n) => {
                let expect = &payload[c.read..c.read + n.min(payload.len() - c.read)];
                if n > payload.len() - c.read || &buf[..n] != expect {
                    return Err(io::Error::other("echo mismatch"));
                }
                c.read += n;
                if c.read == payload.len() {
                    let us = c.sent_at.elapsed().as_micros().max(1) as u64;
                    let _ = latency.record(us.min(60_000_000));
                    c.done += 1;
                    c.read = 0;
                    c.written = 0;
                    if c.done == load.messages {
                        return Ok(true);
                    }
                    c.sent_at = Instant::now();
                    pump_write(c, payload)?;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) => return Err(e),
        }
    }
}
