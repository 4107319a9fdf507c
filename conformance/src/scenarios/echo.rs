//! Echo at scale: every byte comes back, in order, on every connection.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::thread;
use std::time::Duration;

use lws_core::{Context, Endpoint, VhostBuilder};
use lws_role_raw::RawProtocol;

use crate::Runner;
use crate::peer::{self, Echo, Watchdog};

const CONNS: usize = 1000;
const THREADS: usize = 20;
const MESSAGES: usize = 100;

/// The message `seq` of connection `conn`: distinct per connection and per
/// sequence number, so loss, duplication or reordering shows.
fn message(conn: usize, seq: usize) -> [u8; 32] {
    let mut m = [b'.'; 32];
    let text = format!("c{conn:05}-m{seq:04}-");
    m[..text.len()].copy_from_slice(text.as_bytes());
    m[31] = b'\n';
    m
}

/// 1,000 concurrent TCP connections each echo 100 messages.
pub fn many_connections(run: Runner<'_>) {
    let (ctx, addr) = peer::tcp_server(Echo::default());
    let remote = ctx.remote();
    let _dog = Watchdog::arm(remote.clone(), peer::SCENARIO_LIMIT);
    let peers = thread::spawn(move || {
        let per = CONNS / THREADS;
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                thread::spawn(move || {
                    let mut socks: Vec<_> = (0..per).map(|_| peer::connect(addr)).collect();
                    for seq in 0..MESSAGES {
                        for (i, s) in socks.iter_mut().enumerate() {
                            peer::send(s, &message(t * per + i, seq));
                        }
                        for (i, s) in socks.iter_mut().enumerate() {
                            let got = peer::read_n(s, 32);
                            assert_eq!(
                                got,
                                message(t * per + i, seq),
                                "conn {} seq {seq}",
                                t * per + i
                            );
                        }
                    }
                    per * MESSAGES
                })
            })
            .collect();
        let echoed: usize = workers
            .into_iter()
            .map(|w| w.join().expect("peer thread"))
            .sum();
        remote.stop();
        echoed
    });
    let mut ctx = run(ctx);
    let echoed = peers.join().expect("peer threads failed");
    assert_eq!(echoed, CONNS * MESSAGES);
    let stats = ctx.stats();
    let echo = peer::handler::<Echo>(&mut ctx);
    assert_eq!(echo.opened, CONNS);
    assert_eq!(echo.rx_bytes, (CONNS * MESSAGES * 32) as u64);
    assert_eq!(stats.opened, CONNS as u64);
    assert_eq!(stats.connections, 0, "every connection closed at stop");
    assert!(ctx.is_stopped());
}

/// Echo over a Unix-domain socket listener (path-bound).
pub fn unix_socket(run: Runner<'_>) {
    let dir = std::env::temp_dir().join(format!(
        "lws-conf-{}-{:?}",
        std::process::id(),
        thread::current().id()
    ));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let path = dir.join("echo.sock");
    let ctx = Context::builder()
        .vhost(
            VhostBuilder::new("default")
                .listen(Endpoint::Unix(path.clone()))
                .protocol("p", RawProtocol::new(Echo::default())),
        )
        .build()
        .expect("context");
    let remote = ctx.remote();
    let _dog = Watchdog::arm(remote.clone(), peer::SCENARIO_LIMIT);
    let client_path = path.clone();
    let peers = thread::spawn(move || {
        let mut s = UnixStream::connect(&client_path).expect("connect unix");
        s.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        let payload: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut w = s.try_clone().expect("clone");
        let data = payload.clone();
        let writer = thread::spawn(move || w.write_all(&data).expect("write"));
        let mut got = vec![0; payload.len()];
        s.read_exact(&mut got).expect("read echo");
        writer.join().expect("writer");
        remote.stop();
        got == payload
    });
    let mut ctx = run(ctx);
    assert!(
        peers.join().expect("peer"),
        "unix echo returned different bytes"
    );
    assert_eq!(peer::handler::<Echo>(&mut ctx).rx_bytes, 200_000);
    assert!(
        !path.exists(),
        "listener socket file removed when the context stopped"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
