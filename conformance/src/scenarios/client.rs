//! Client connections: connect, exchange, and the two error paths
//! (refused, timed out) delivered as connect-error events.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::net::UnixListener;
use std::thread;
use std::time::{Duration, Instant};

use lws_core::{ConnCx, Connect, Context, Endpoint, VhostBuilder};
use lws_role_raw::{OpenKind, RawEvent, RawHandler, RawProtocol};

use crate::Runner;
use crate::peer::{self, Watchdog};

/// Says hello when connected, records replies and connect errors, stops
/// the context when `expect` outcomes were seen.
#[derive(Default)]
struct ClientUser {
    expect: usize,
    replies: Vec<Vec<u8>>,
    errors: Vec<io::ErrorKind>,
    connected: usize,
}

impl ClientUser {
    fn outcome(&mut self, cx: &mut ConnCx<'_>) {
        if self.replies.len() + self.errors.len() == self.expect {
            cx.cx().stop();
        }
    }
}

impl RawHandler for ClientUser {
    type Session = Vec<u8>;

    fn on_event(&mut self, cx: &mut ConnCx<'_>, got: &mut Vec<u8>, ev: RawEvent<'_>) {
        match ev {
            RawEvent::Opened(OpenKind::Connected) => {
                self.connected += 1;
                let _ = cx.write(b"hello");
            }
            RawEvent::Rx(d) => got.extend_from_slice(d),
            RawEvent::Closed(_) => {
                self.replies.push(std::mem::take(got));
                self.outcome(cx);
            }
            RawEvent::ConnectError(e) => {
                self.errors.push(e.kind());
                self.outcome(cx);
            }
            _ => {}
        }
    }
}

fn client_ctx(expect: usize) -> Context {
    let h = ClientUser {
        expect,
        ..Default::default()
    };
    Context::builder()
        .vhost(VhostBuilder::new("default").protocol("p", RawProtocol::new(h)))
        .build()
        .expect("context")
}

/// A peer that answers "hello" with "world" and closes.
fn serve_once(mut s: impl Read + Write) {
    let mut buf = [0u8; 5];
    s.read_exact(&mut buf)
        .expect("hello from client under test");
    assert_eq!(&buf, b"hello");
    s.write_all(b"world").expect("reply");
}

pub fn connect_and_errors(run: Runner<'_>) {
    let mut ctx = client_ctx(3);
    let _dog = Watchdog::arm(ctx.remote(), peer::SCENARIO_LIMIT);
    let tcp = TcpListener::bind("127.0.0.1:0").expect("bind");
    let tcp_addr = tcp.local_addr().expect("addr");
    let dir = std::env::temp_dir().join(format!(
        "lws-conf-cl-{}-{:?}",
        std::process::id(),
        thread::current().id()
    ));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("peer.sock");
    let _ = std::fs::remove_file(&path);
    let unix = UnixListener::bind(&path).expect("bind unix");
    let refused: SocketAddr = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let peers = thread::spawn(move || {
        serve_once(tcp.accept().expect("accept").0);
        serve_once(unix.accept().expect("accept unix").0);
    });
    for ep in [
        Endpoint::Tcp(tcp_addr),
        Endpoint::Unix(path),
        Endpoint::Tcp(refused),
    ] {
        ctx.connect(Connect::new(ep).protocol("p"))
            .expect("connect queued");
    }
    let mut ctx = run(ctx);
    peers.join().expect("peers");
    let _ = std::fs::remove_dir_all(&dir);
    let h = peer::handler::<ClientUser>(&mut ctx);
    assert_eq!(h.connected, 2);
    assert_eq!(h.replies, vec![b"world".to_vec(); 2]);
    assert_eq!(h.errors, vec![io::ErrorKind::ConnectionRefused]);
}

/// A listener whose accept queue is full drops SYNs: a connect to it hangs
/// until our connect timeout fires.
pub fn connect_timeout(run: Runner<'_>) {
    let listener =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    listener
        .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .expect("bind");
    listener.listen(0).expect("listen");
    let addr = listener
        .local_addr()
        .expect("addr")
        .as_socket()
        .expect("inet");
    let mut fillers = Vec::new();
    let full =
        (0..16).any(
            |_| match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
                Ok(s) => {
                    fillers.push(s);
                    false
                }
                Err(_) => true,
            },
        );
    assert!(
        full,
        "could not fill the accept queue to provoke a connect timeout"
    );
    let mut ctx = client_ctx(1);
    let _dog = Watchdog::arm(ctx.remote(), peer::SCENARIO_LIMIT);
    let t0 = Instant::now();
    ctx.connect(
        Connect::new(addr)
            .protocol("p")
            .timeout(Duration::from_millis(300)),
    )
    .expect("queued");
    let mut ctx = run(ctx);
    let took = t0.elapsed();
    let h = peer::handler::<ClientUser>(&mut ctx);
    assert_eq!(h.errors, vec![io::ErrorKind::TimedOut]);
    assert!(
        took >= Duration::from_millis(300),
        "timed out early: {took:?}"
    );
    drop(fillers);
}
