//! A WebSocket client to a host name the nameserver (a responder on
//! 127.0.0.1 answering NXDOMAIN) does not know: `connect` returns at once
//! and the failure arrives as a typed `ConnectError(ClientError::Dns)`.

use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use lws_core::{Context, DnsConfig, DnsError, RunLoop, VhostBuilder};
use lws_loop_poll::PollLoop;
use lws_role_ws::client::{self, ClientError, ClientOptions};
use lws_role_ws::{WsCx, WsEvent, WsHandler, WsProtocol};

#[derive(Default)]
struct Client {
    errors: Vec<ClientError>,
}

impl WsHandler for Client {
    type Session = ();

    fn on_event(&mut self, cx: &mut WsCx<'_, '_>, _: &mut (), ev: WsEvent<'_>) {
        if let WsEvent::ConnectError(e) = ev {
            self.errors.push(e.clone());
            cx.conn().cx().stop();
        }
    }
}

#[test]
fn nxdomain_is_a_typed_connect_error() {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let server = sock.local_addr().expect("addr");
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let responder = thread::spawn(move || {
        let mut buf = [0u8; 1500];
        while !s.load(Ordering::Relaxed) {
            if let Ok((n, from)) = sock.recv_from(&mut buf)
                && n >= 12
            {
                let mut r = buf[..n].to_vec();
                r[2] = 0x80 | (r[2] & 0x01); // QR, RD copied
                r[3] = 0x83; // RA, NXDOMAIN
                r[6..12].fill(0);
                let _ = sock.send_to(&r, from);
            }
        }
    });
    let dir = std::env::temp_dir().join(format!("lws-ws-dns-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("resolv.conf"), format!("nameserver {server}\n")).expect("resolv");
    std::fs::write(dir.join("hosts"), "").expect("hosts");
    let mut ctx = Context::builder()
        .vhost(VhostBuilder::new("c").protocol("c", WsProtocol::new(Client::default())))
        .dns(DnsConfig::with_paths(
            dir.join("resolv.conf"),
            dir.join("hosts"),
        ))
        .build()
        .expect("ctx");
    let remote = ctx.remote();
    let (dog_tx, dog_rx) = std::sync::mpsc::channel::<()>();
    let dog = thread::spawn(move || {
        if dog_rx.recv_timeout(Duration::from_secs(30)).is_err() {
            remote.stop();
        }
    });
    client::connect(
        &mut ctx,
        "ws://nowhere.lws.test:9/",
        "c",
        ClientOptions::default(),
    )
    .expect("connect returns at once");
    PollLoop::new().expect("loop").run(&mut ctx).expect("run");
    let _ = dog_tx.send(());
    dog.join().expect("watchdog");
    stop.store(true, Ordering::Relaxed);
    responder.join().expect("responder");
    let _ = std::fs::remove_dir_all(&dir);
    let h = ctx
        .protocol_mut::<WsProtocol<Client>>("c", "c")
        .expect("protocol")
        .handler_mut();
    assert_eq!(
        h.errors,
        vec![ClientError::Dns {
            host: "nowhere.lws.test".into(),
            error: DnsError::NxDomain,
        }]
    );
}
