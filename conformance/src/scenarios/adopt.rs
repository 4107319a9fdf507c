//! Adoption: sockets and descriptors opened by the application join the
//! loop with a role, optionally with bytes the application already read.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::thread;
use std::time::Duration;

use lws_core::{Adopt, CloseReason, ConnCx, Context, VhostBuilder};
use lws_role_raw::{RawEvent, RawHandler, RawProtocol};

use crate::Runner;
use crate::peer::{self, Watchdog};

/// Records every rx event separately and echoes stream data / datagrams.
#[derive(Default)]
struct Recorder {
    echo: bool,
    rx: Vec<Vec<u8>>,
    datagrams: Vec<Vec<u8>>,
    closed: Vec<CloseReason>,
    /// Stop the context when a connection closes (the pipe scenario ends
    /// on its EOF, not after a guessed delay).
    stop_on_close: bool,
}

impl RawHandler for Recorder {
    type Session = ();

    fn on_event(&mut self, cx: &mut ConnCx<'_>, _: &mut (), ev: RawEvent<'_>) {
        match ev {
            RawEvent::Rx(d) => {
                self.rx.push(d.to_vec());
                if self.echo {
                    let _ = cx.write(d);
                }
            }
            RawEvent::Datagram { data, from } => {
                self.datagrams.push(data.to_vec());
                cx.send_to(data, from).expect("udp echo");
            }
            RawEvent::Closed(r) => {
                self.closed.push(r.clone());
                if self.stop_on_close {
                    cx.cx().stop();
                }
            }
            _ => {}
        }
    }
}

/// A context with no listener: everything arrives by adoption.
fn adopt_only(echo: bool) -> Context {
    adopt_with(Recorder {
        echo,
        ..Recorder::default()
    })
}

fn adopt_with(rec: Recorder) -> Context {
    Context::builder()
        .vhost(VhostBuilder::new("default").protocol("p", RawProtocol::new(rec)))
        .build()
        .expect("context")
}

pub fn read_buffer_first(run: Runner<'_>) {
    let ctx = adopt_only(true);
    let remote = ctx.remote();
    let _dog = Watchdog::arm(remote.clone(), peer::SCENARIO_LIMIT);
    let peers = thread::spawn(move || {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let mut client = peer::connect(listener.local_addr().expect("addr"));
        peer::send(&mut client, b"HELLO");
        let (mut accepted, _) = listener.accept().expect("accept");
        // The application reads the first bytes itself (e.g. to sniff the
        // protocol), then hands over the stream together with them.
        let mut sniffed = [0u8; 5];
        accepted.read_exact(&mut sniffed).expect("sniff");
        remote.post(move |cx| {
            cx.adopt(
                Adopt::tcp(accepted)
                    .protocol("p")
                    .read_buffer(sniffed.to_vec()),
            )
        });
        peer::send(&mut client, b"WORLD");
        let echoed = peer::read_n(&mut client, 10);
        drop(client);
        thread::sleep(Duration::from_millis(50));
        remote.stop();
        echoed
    });
    let mut ctx = run(ctx);
    assert_eq!(peers.join().expect("peers"), b"HELLOWORLD");
    let h = peer::handler::<Recorder>(&mut ctx);
    assert_eq!(
        h.rx.first().map(Vec::as_slice),
        Some(&b"HELLO"[..]),
        "read buffer delivered first, alone"
    );
    assert_eq!(h.rx.concat(), b"HELLOWORLD");
}

pub fn udp(run: Runner<'_>) {
    let ctx = adopt_only(true);
    let remote = ctx.remote();
    let _dog = Watchdog::arm(remote.clone(), peer::SCENARIO_LIMIT);
    let server = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
    let server_addr: SocketAddr = server.local_addr().expect("addr");
    let (adopted_tx, adopted_rx) = std::sync::mpsc::channel();
    remote.post(move |cx| {
        cx.adopt(Adopt::udp(server));
        let _ = adopted_tx.send(());
    });
    let payloads: Vec<Vec<u8>> = vec![b"one".to_vec(), vec![], vec![7; 1400], b"four".to_vec()];
    let sent = payloads.clone();
    let peers = thread::spawn(move || {
        adopted_rx
            .recv_timeout(Duration::from_secs(20))
            .expect("adopted");
        let c = UdpSocket::bind("127.0.0.1:0").expect("client udp");
        c.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        let mut back = Vec::new();
        for p in &sent {
            c.send_to(p, server_addr).expect("send");
            let mut buf = [0u8; 2048];
            let (n, from) = c.recv_from(&mut buf).expect("echo datagram");
            assert_eq!(from, server_addr);
            back.push(buf[..n].to_vec());
        }
        remote.stop();
        back
    });
    let mut ctx = run(ctx);
    assert_eq!(
        peers.join().expect("peers"),
        payloads,
        "each datagram echoed intact"
    );
    assert_eq!(peer::handler::<Recorder>(&mut ctx).datagrams, payloads);
}

pub fn pipe(run: Runner<'_>) {
    let ctx = adopt_with(Recorder {
        stop_on_close: true,
        ..Recorder::default()
    });
    let remote = ctx.remote();
    let _dog = Watchdog::arm(remote.clone(), peer::SCENARIO_LIMIT);
    let (reader, mut writer) = std::io::pipe().expect("pipe");
    remote.post(move |cx| cx.adopt(Adopt::file(reader)));
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 241) as u8).collect();
    let expect = data.clone();
    let feeder = thread::spawn(move || {
        for chunk in data.chunks(7_000) {
            writer.write_all(chunk).expect("pipe write");
            thread::sleep(Duration::from_millis(2));
        }
        // Dropping the writer is end-of-file for the reader.
    });
    // The handler stops the context when the pipe's EOF closes it.
    let mut ctx = run(ctx);
    feeder.join().expect("feeder");
    let h = peer::handler::<Recorder>(&mut ctx);
    assert_eq!(h.rx.concat(), expect, "pipe contents in order");
    assert_eq!(
        h.closed,
        vec![CloseReason::PeerClosed],
        "EOF closes the adopted pipe"
    );
}
