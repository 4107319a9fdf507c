//! A host that runs its own mio loop and its own listener. It accepts a
//! connection itself, reads the first bytes itself, and hands the socket
//! (with those bytes) to the library, attached to the same `mio::Poll`,
//! which echoes on it. Then the host stops and detaches the library and
//! goes on serving with its own loop alone.
//!
//!     cargo run --example adopt-into-host-loop --features loop-mio

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use lws::mio::MioAttached;
use lws::mio::mio::net::TcpListener;
use lws::mio::mio::{Events, Interest, Poll, Token};
use lws::raw::{RawEvent, RawProtocol};
use lws::{Adopt, Context, VhostBuilder};

const LISTENER: Token = Token(1);

/// A peer: send, read the reply (up to `want` bytes or EOF).
fn peer(addr: SocketAddr, send: &'static [u8], want: usize) -> std::io::Result<Vec<u8>> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.write_all(send)?;
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while got.len() < want {
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    Ok(got)
}

fn main() {
    common::init_logging();
    let echo = RawProtocol::from_fn(|cx, ev| {
        if let RawEvent::Rx(data) = ev {
            let _ = cx.write(data);
        }
    });
    let mut ctx = Context::builder()
        .vhost(VhostBuilder::new("default").protocol("echo", echo))
        .build()
        .unwrap_or_else(|e| common::die("startup", e));

    let mut poll = Poll::new().unwrap_or_else(|e| common::die("poll", e));
    let mut listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .unwrap_or_else(|e| common::die("bind", e));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| common::die("bind", e));
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .unwrap_or_else(|e| common::die("register", e));
    let mut lws =
        MioAttached::attach(&mut ctx, poll.registry()).unwrap_or_else(|e| common::die("attach", e));
    println!("listening on tcp://{addr}/ (host's own mio loop)");

    let (tx, rx) = mpsc::channel();
    let t = tx.clone();
    std::thread::spawn(move || t.send(("library", peer(addr, b"hello lws", 9))));

    let mut events = Events::with_capacity(64);
    let mut adopted = 0;
    let mut asked_host = false;
    let mut results = Vec::new();
    while results.len() < 2 {
        poll.poll(
            &mut events,
            lws.timeout(&ctx).or(Some(Duration::from_millis(50))),
        )
        .unwrap_or_else(|e| common::die("poll", e));
        for ev in events.iter() {
            if MioAttached::owns(ev.token()) {
                lws.handle(&mut ctx, ev);
                continue;
            }
            while let Ok((stream, _)) = listener.accept() {
                let mut stream = TcpStream::from(stream);
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                if ctx.is_stopped() {
                    // The library is gone: the host answers by itself.
                    let _ = stream.write_all(b"served by the host");
                    continue;
                }
                let mut first = vec![0u8; 5];
                let n = stream.read(&mut first).unwrap_or(0);
                first.truncate(n);
                match ctx.adopt(Adopt::tcp(stream).protocol("echo").read_buffer(first)) {
                    Ok(_) => adopted += 1,
                    Err(e) => eprintln!("adopt failed: {e}"),
                }
            }
        }
        lws.after_poll(&mut ctx);
        while let Ok((who, r)) = rx.try_recv() {
            let r = r.unwrap_or_else(|e| format!("error: {e}").into_bytes());
            println!("{who} replied: {:?}", String::from_utf8_lossy(&r));
            results.push((who, r));
            if who == "library" {
                ctx.stop();
            }
        }
        // Once the library has stopped and deregistered, a second peer
        // checks that the host's own listener still works.
        if ctx.is_stopped() && lws.registered() == 0 && !asked_host {
            asked_host = true;
            let t = tx.clone();
            std::thread::spawn(move || t.send(("host", peer(addr, b"", 18))));
        }
    }
    println!(
        "adopted {adopted}; library registrations left after stop: {}",
        lws.registered()
    );
    let left = lws.detach(&mut ctx);
    let ok = results[0].1 == b"hello lws" && results[1].1 == b"served by the host" && left == 0;
    std::process::exit(i32::from(!ok));
}
