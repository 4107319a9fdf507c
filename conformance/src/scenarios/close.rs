//! Closing: from inside callbacks, of other connections, stale tokens,
//! peer resets, and a graceful stop of the whole context.

use std::io::{Read, Write};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use lws_core::{CloseReason, ConnCx, Token};
use lws_role_raw::{RawEvent, RawHandler};

use crate::Runner;
use crate::peer::{self, Watchdog};

/// Replies "bye" and closes itself from inside its own rx callback.
#[derive(Default)]
struct ByeOnRx {
    closed: Vec<CloseReason>,
    rx_after_close: usize,
}

impl RawHandler for ByeOnRx {
    type Session = bool;

    fn on_event(&mut self, cx: &mut ConnCx<'_>, closing: &mut bool, ev: RawEvent<'_>) {
        match ev {
            RawEvent::Rx(_) if *closing => self.rx_after_close += 1,
            RawEvent::Rx(_) => {
                let _ = cx.write(b"bye");
                cx.close(CloseReason::Normal);
                // Closing twice from the same callback is harmless.
                cx.close(CloseReason::Normal);
                *closing = true;
            }
            RawEvent::Closed(r) => self.closed.push(r.clone()),
            _ => {}
        }
    }
}

pub fn inside_rx(run: Runner<'_>) {
    let (ctx, addr) = peer::tcp_server(ByeOnRx::default());
    let remote = ctx.remote();
    let _dog = Watchdog::arm(remote.clone(), peer::SCENARIO_LIMIT);
    let peers = thread::spawn(move || {
        let got: Vec<_> = (0..3)
            .map(|_| {
                let mut s = peer::connect(addr);
                peer::send(&mut s, b"hi");
                peer::read_to_eof(&mut s).expect("clean close")
            })
            .collect();
        remote.stop();
        got
    });
    let mut ctx = run(ctx);
    for reply in peers.join().expect("peers") {
        assert_eq!(reply, b"bye", "reply flushed before the close");
    }
    let h = peer::handler::<ByeOnRx>(&mut ctx);
    assert_eq!(
        h.closed,
        vec![CloseReason::Normal; 3],
        "exactly one Closed per connection"
    );
    assert_eq!(h.rx_after_close, 0);
}

/// On "kill", closes every other connection it knows.
#[derive(Default)]
struct Killer {
    tokens: Vec<Token>,
    closed: Vec<(Token, CloseReason)>,
}

impl RawHandler for Killer {
    type Session = ();

    fn on_event(&mut self, cx: &mut ConnCx<'_>, _: &mut (), ev: RawEvent<'_>) {
        match ev {
            RawEvent::Opened(_) => self.tokens.push(cx.token()),
            RawEvent::Rx(b"kill") => {
                let me = cx.token();
                for t in self.tokens.iter().filter(|t| **t != me) {
                    cx.cx().close(*t, CloseReason::Normal);
                }
                let _ = cx.write(b"done");
            }
            RawEvent::Rx(d) => {
                let _ = cx.write(d);
            }
            RawEvent::Closed(r) => self.closed.push((cx.token(), r.clone())),
            _ => {}
        }
    }
}

pub fn other_from_callback(run: Runner<'_>) {
    let (ctx, addr) = peer::tcp_server(Killer::default());
    let remote = ctx.remote();
    let _dog = Watchdog::arm(remote.clone(), peer::SCENARIO_LIMIT);
    let peers = thread::spawn(move || {
        let mut victims: Vec<_> = (0..3).map(|_| peer::connect(addr)).collect();
        for v in &mut victims {
            peer::send(v, b"ping");
            assert_eq!(peer::read_n(v, 4), b"ping");
        }
        let mut killer = peer::connect(addr);
        peer::send(&mut killer, b"kill");
        assert_eq!(peer::read_n(&mut killer, 4), b"done");
        let eofs = victims
            .iter_mut()
            .map(peer::read_to_eof)
            .filter(|r| r.as_ref().is_ok_and(|b| b.is_empty()))
            .count();
        peer::send(&mut killer, b"still");
        let alive = peer::read_n(&mut killer, 5) == b"still";
        remote.stop();
        (eofs, alive)
    });
    let mut ctx = run(ctx);
    let (eofs, alive) = peers.join().expect("peers");
    assert_eq!(eofs, 3, "every other connection was closed");
    assert!(alive, "the closing connection itself stayed open");
    let h = peer::handler::<Killer>(&mut ctx);
    assert_eq!(
        h.closed
            .iter()
            .filter(|(_, r)| *r == CloseReason::Normal)
            .count(),
        3
    );
}

/// Remembers the first connection's token and, on the second connection,
/// tries to use it.
struct StaleUser {
    first: Option<Token>,
    closed_tx: mpsc::Sender<()>,
    writables: usize,
    second: Option<Token>,
    second_closed: Option<CloseReason>,
}

impl RawHandler for StaleUser {
    type Session = ();

    fn on_event(&mut self, cx: &mut ConnCx<'_>, _: &mut (), ev: RawEvent<'_>) {
        match ev {
            RawEvent::Opened(_) if self.first.is_none() => self.first = Some(cx.token()),
            RawEvent::Opened(_) => self.second = Some(cx.token()),
            RawEvent::Rx(b"probe") => {
                if let Some(stale) = self.first {
                    cx.cx().request_writable(stale);
                    cx.cx().close(stale, CloseReason::Normal);
                }
                let _ = cx.write(b"ok");
            }
            RawEvent::Rx(d) => {
                let _ = cx.write(d);
            }
            RawEvent::Writable => self.writables += 1,
            RawEvent::Closed(_) if Some(cx.token()) == self.first => {
                let _ = self.closed_tx.send(());
            }
            RawEvent::Closed(r) => self.second_closed = Some(r.clone()),
            _ => {}
        }
    }
}

pub fn stale_token(run: Runner<'_>) {
    let (closed_tx, closed_rx) = mpsc::channel();
    let h = StaleUser {
        first: None,
        closed_tx,
        writables: 0,
        second: None,
        second_closed: None,
    };
    let (ctx, addr) = peer::tcp_server(h);
    let remote = ctx.remote();
    let _dog = Watchdog::arm(remote.clone(), peer::SCENARIO_LIMIT);
    let peers = thread::spawn(move || {
        let mut first = peer::connect(addr);
        peer::send(&mut first, b"a");
        assert_eq!(peer::read_n(&mut first, 1), b"a");
        drop(first);
        closed_rx
            .recv_timeout(Duration::from_secs(20))
            .expect("server closed the first connection");
        let mut second = peer::connect(addr);
        peer::send(&mut second, b"probe");
        let ok = peer::read_n(&mut second, 2) == b"ok";
        peer::send(&mut second, b"again");
        let alive = peer::read_n(&mut second, 5) == b"again";
        remote.stop();
        // Keep `second` open until the context has stopped.
        (ok && alive, second)
    });
    let mut ctx = run(ctx);
    let (ok, _second) = peers.join().expect("peers");
    assert!(ok, "second connection unaffected by the stale token");
    let h = peer::handler::<StaleUser>(&mut ctx);
    let (first, second) = (h.first.expect("first"), h.second.expect("second"));
    assert_ne!(first, second);
    assert_eq!(
        first.into_raw() & 0xffff_ffff,
        second.into_raw() & 0xffff_ffff,
        "slot was reused (test is meaningful)"
    );
    assert_eq!(h.writables, 0, "stale request_writable reached no one");
    assert_eq!(h.second_closed, Some(CloseReason::ContextStopping));
}

/// "flood" makes the server stream data until the peer goes away; other
/// input is echoed.
#[derive(Default)]
struct Flood {
    closed: Vec<(Vec<u8>, CloseReason)>,
}

const FLOOD_CHUNK: usize = 256 * 1024;

impl RawHandler for Flood {
    type Session = (bool, Vec<u8>);

    fn on_event(&mut self, cx: &mut ConnCx<'_>, s: &mut (bool, Vec<u8>), ev: RawEvent<'_>) {
        match ev {
            RawEvent::Rx(d) => {
                s.1.extend_from_slice(d);
                if d.starts_with(b"flood") {
                    s.0 = true;
                    cx.request_writable();
                } else {
                    let _ = cx.write(d);
                }
            }
            RawEvent::Writable if s.0 && cx.write(&[b'z'; FLOOD_CHUNK]).is_ok() => {
                cx.request_writable();
            }
            RawEvent::Closed(r) => self.closed.push((s.1.clone(), r.clone())),
            _ => {}
        }
    }
}

pub fn reset_mid_write(run: Runner<'_>) {
    let (ctx, addr) = peer::tcp_server(Flood::default());
    let remote = ctx.remote();
    let _dog = Watchdog::arm(remote.clone(), peer::SCENARIO_LIMIT);
    let peers = thread::spawn(move || {
        let mut good = peer::connect(addr);
        let mut bad = peer::connect(addr);
        peer::send(&mut bad, b"flood");
        let mut buf = vec![0; 64 * 1024];
        let n = bad.read(&mut buf).expect("flood starts");
        assert!(n > 0);
        // SO_LINGER 0: close sends RST while the server is mid-write.
        socket2::SockRef::from(&bad)
            .set_linger(Some(Duration::ZERO))
            .expect("linger");
        drop(bad);
        thread::sleep(Duration::from_millis(100));
        for i in 0..10u8 {
            peer::send(&mut good, &[i]);
            assert_eq!(
                peer::read_n(&mut good, 1),
                [i],
                "good connection still served"
            );
        }
        good.flush().expect("flush");
        remote.stop();
        good // kept open until the context has stopped
    });
    let mut ctx = run(ctx);
    let _good = peers.join().expect("peers");
    let h = peer::handler::<Flood>(&mut ctx);
    let bad = h
        .closed
        .iter()
        .find(|(rx, _)| rx.starts_with(b"flood"))
        .expect("flooded conn closed");
    assert!(
        matches!(bad.1, CloseReason::Io(_)),
        "reset seen as a socket error, got {:?}",
        bad.1
    );
    let good = h
        .closed
        .iter()
        .find(|(rx, _)| !rx.starts_with(b"flood"))
        .expect("good conn");
    assert_eq!(
        good.1,
        CloseReason::ContextStopping,
        "good connection lived until stop"
    );
}

/// Writes 8 MiB in one go, then stops the context: the peer still gets
/// every byte, then a clean close.
#[derive(Default)]
struct BigThenStop {
    closed: Vec<CloseReason>,
}

const BIG: usize = 8 * 1024 * 1024;

impl RawHandler for BigThenStop {
    type Session = ();

    fn on_event(&mut self, cx: &mut ConnCx<'_>, _: &mut (), ev: RawEvent<'_>) {
        match ev {
            RawEvent::Rx(_) => {
                let data: Vec<u8> = (0..BIG).map(|i| (i % 253) as u8).collect();
                cx.write(&data).expect("first write is accepted whole");
                cx.cx().stop();
            }
            RawEvent::Closed(r) => self.closed.push(r.clone()),
            _ => {}
        }
    }
}

pub fn graceful_stop(run: Runner<'_>) {
    let (ctx, addr) = peer::tcp_server(BigThenStop::default());
    let _dog = Watchdog::arm(ctx.remote(), peer::SCENARIO_LIMIT);
    let client = thread::spawn(move || {
        let mut s = peer::connect(addr);
        peer::send(&mut s, b"go");
        peer::read_to_eof(&mut s).expect("read all then EOF")
    });
    let mut ctx = run(ctx);
    let got = client.join().expect("client");
    assert_eq!(got.len(), BIG, "every pending byte flushed before close");
    assert!(
        got.iter().enumerate().all(|(i, b)| *b == (i % 253) as u8),
        "bytes in order"
    );
    assert_eq!(
        peer::handler::<BigThenStop>(&mut ctx).closed,
        vec![CloseReason::ContextStopping]
    );
    assert!(ctx.is_stopped());
}
