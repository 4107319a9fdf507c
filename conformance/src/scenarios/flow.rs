//! Write flow control: `request_writable` yields one `Writable`, partial
//! writes are buffered and drained in order before the next `Writable`,
//! and the output limit refuses excess without corrupting the stream.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use lws_core::{ConnCx, Error};
use lws_role_raw::{RawEvent, RawHandler};

use crate::Runner;
use crate::peer::{self, Watchdog};

/// Counts writables; writes "w" in each until five were seen.
#[derive(Default)]
struct Counter {
    total: usize,
}

impl RawHandler for Counter {
    type Session = usize;

    fn on_event(&mut self, cx: &mut ConnCx<'_>, seen: &mut usize, ev: RawEvent<'_>) {
        match ev {
            RawEvent::Rx(b"go") => {
                for _ in 0..3 {
                    cx.request_writable(); // coalesced into one event
                }
            }
            RawEvent::Rx(_) => {
                let _ = cx.write(seen.to_string().as_bytes());
            }
            RawEvent::Writable => {
                *seen += 1;
                self.total += 1;
                let _ = cx.write(b"w");
                if *seen < 5 {
                    cx.request_writable();
                }
            }
            _ => {}
        }
    }
}

pub fn one_writable_per_request(run: Runner<'_>) {
    let (ctx, addr) = peer::tcp_server(Counter::default());
    let remote = ctx.remote();
    let _dog = Watchdog::arm(remote.clone(), peer::SCENARIO_LIMIT);
    let peers = thread::spawn(move || {
        let mut s = peer::connect(addr);
        peer::send(&mut s, b"go");
        let ws = peer::read_n(&mut s, 5);
        thread::sleep(Duration::from_millis(100)); // any extra Writable would land now
        peer::send(&mut s, b"n");
        let count = peer::read_n(&mut s, 1);
        remote.stop();
        (ws, count)
    });
    let mut ctx = run(ctx);
    let (ws, count) = peers.join().expect("peers");
    assert_eq!(ws, b"wwwww");
    assert_eq!(count, b"5", "exactly one Writable per request");
    assert_eq!(peer::handler::<Counter>(&mut ctx).total, 5);
}

const CHUNKS: usize = 64;
const CHUNK: usize = 256 * 1024;

fn pattern(i: usize) -> u8 {
    (i % 251) as u8 ^ (i / CHUNK) as u8
}

/// Streams CHUNKS chunks, one write per writable, checking the core never
/// reports writable while output is still pending.
#[derive(Default)]
struct Streamer {
    writables: usize,
    early_writables: usize,
}

impl RawHandler for Streamer {
    type Session = usize;

    fn on_event(&mut self, cx: &mut ConnCx<'_>, sent: &mut usize, ev: RawEvent<'_>) {
        match ev {
            RawEvent::Rx(_) => cx.request_writable(),
            RawEvent::Writable => {
                self.writables += 1;
                if cx.pending_output() > 0 {
                    self.early_writables += 1;
                }
                let base = *sent * CHUNK;
                let chunk: Vec<u8> = (base..base + CHUNK).map(pattern).collect();
                cx.write(&chunk)
                    .expect("write with nothing pending is accepted");
                *sent += 1;
                if *sent < CHUNKS {
                    cx.request_writable();
                }
            }
            _ => {}
        }
    }
}

pub fn large_writes_in_order(run: Runner<'_>) {
    let (ctx, addr) = peer::tcp_server(Streamer::default());
    let remote = ctx.remote();
    let _dog = Watchdog::arm(remote.clone(), peer::SCENARIO_LIMIT);
    let peers = thread::spawn(move || {
        let mut s = peer::connect(addr);
        peer::send(&mut s, b"go");
        thread::sleep(Duration::from_millis(200)); // let the server's output back up
        let got = peer::read_n(&mut s, CHUNKS * CHUNK);
        remote.stop();
        got
    });
    let mut ctx = run(ctx);
    let got = peers.join().expect("peers");
    let bad = got.iter().enumerate().position(|(i, b)| *b != pattern(i));
    assert_eq!(bad, None, "stream corrupted at this offset");
    let h = peer::handler::<Streamer>(&mut ctx);
    assert_eq!(h.writables, CHUNKS);
    assert_eq!(
        h.early_writables, 0,
        "Writable delivered while output was pending"
    );
}

const FIRST: usize = 16 * 1024 * 1024;
const LIMIT: usize = 64 * 1024;

/// Writes FIRST bytes, then tries 2x LIMIT more while that is pending;
/// tells the peer (`wrote`) once both writes were made, so the peer reads
/// nothing before: a peer already reading could drain the first write
/// inside the send call and leave nothing pending.
struct LimitProbe {
    pending_at_second: usize,
    second: Option<Result<(), String>>,
    wrote: mpsc::SyncSender<()>,
}

impl RawHandler for LimitProbe {
    type Session = ();

    fn on_event(&mut self, cx: &mut ConnCx<'_>, _: &mut (), ev: RawEvent<'_>) {
        match ev {
            RawEvent::Rx(b"go") => {
                cx.write(&vec![b'a'; FIRST])
                    .expect("first write accepted whole");
                self.pending_at_second = cx.pending_output();
                self.second = Some(cx.write(&vec![b'b'; 2 * LIMIT]).map_err(|e| match e {
                    Error::OutputLimit { .. } => "limit".to_owned(),
                    other => other.to_string(),
                }));
                let _ = self.wrote.try_send(());
            }
            RawEvent::Rx(_) => {
                let _ = cx.write(b"end");
            }
            _ => {}
        }
    }
}

pub fn output_limit(run: Runner<'_>) {
    let (wrote, wrote_rx) = mpsc::sync_channel(1);
    let probe = LimitProbe {
        pending_at_second: 0,
        second: None,
        wrote,
    };
    let (ctx, addr) = peer::tcp_server_with(probe, |v| v.output_limit(LIMIT));
    let remote = ctx.remote();
    let _dog = Watchdog::arm(remote.clone(), peer::SCENARIO_LIMIT);
    let peers = thread::spawn(move || {
        let mut s = peer::connect(addr);
        peer::send(&mut s, b"go");
        // Not reading until both writes were made: the socket buffers
        // fill, so the server's second write meets pending output.
        wrote_rx.recv().expect("the server wrote");
        let first = peer::read_n(&mut s, FIRST);
        peer::send(&mut s, b"done");
        let tail = peer::read_n(&mut s, 3);
        remote.stop();
        (first.iter().all(|b| *b == b'a'), tail)
    });
    let mut ctx = run(ctx);
    let (all_a, tail) = peers.join().expect("peers");
    assert!(all_a, "refused bytes never reached the stream");
    assert_eq!(tail, b"end", "connection usable after the refusal");
    let h = peer::handler::<LimitProbe>(&mut ctx);
    assert!(
        h.pending_at_second > 0,
        "test needs pending output at the second write"
    );
    assert_eq!(h.second, Some(Err("limit".to_owned())));
}
