//! WebSocket benchmark pieces: the two echo servers compared (lws-rs on its
//! native loop, tokio-tungstenite on a current-thread runtime: one core
//! each), and a closed-loop WebSocket load client of its own (minimal
//! framing written here, independent of the code under test).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use lws::http::{HttpProtocol, NotFound};
use lws::ws::{Message, WsConfig, WsCx, WsEvent, WsHandler, WsProtocol};
use lws::{Context, Endpoint, VhostBuilder};

/// Echoes every message.
#[derive(Debug)]
pub struct Echo;

impl WsHandler for Echo {
    type Session = ();
    fn on_event(&mut self, cx: &mut WsCx<'_, '_>, _: &mut (), ev: WsEvent<'_>) {
        let _ = match ev {
            WsEvent::Message(Message::Text(t)) => cx.send_text(t),
            WsEvent::Message(Message::Binary(b)) => cx.send_binary(b),
            _ => Ok(()),
        };
    }
}

/// Run the lws-rs echo server on this thread; reports its address first.
pub fn serve_lws(report: mpsc::Sender<SocketAddr>) {
    let config = WsConfig {
        max_message: 64 << 20,
        ..WsConfig::default()
    };
    let vh = VhostBuilder::new("default")
        .listen(Endpoint::Tcp(SocketAddr::from(([127, 0, 0, 1], 0))))
        .protocol("http", HttpProtocol::new(NotFound).websocket("echo"))
        .protocol("echo", WsProtocol::new(Echo).config(config))
        .backlog(4096)
        .idle_timeout(None);
    let mut ctx = Context::builder().vhost(vh).build().expect("lws context");
    let addr = match ctx.bound_endpoints("default").expect("vhost").first() {
        Some(Endpoint::Tcp(a)) => *a,
        _ => panic!("no listener"),
    };
    let _ = report.send(addr);
    lws::loops::run("poll", &mut ctx).expect("lws loop");
}

/// Run a tokio-tungstenite echo server on a current-thread runtime here.
pub fn serve_tungstenite(report: mpsc::Sender<SocketAddr>) {
    use futures_util::{SinkExt, StreamExt};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let _ = report.send(listener.local_addr().expect("addr"));
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                continue;
            };
            let _ = sock.set_nodelay(true);
            tokio::spawn(async move {
                let cfg = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
                    .max_message_size(Some(64 << 20))
                    .max_frame_size(Some(64 << 20));
                let Ok(ws) = tokio_tungstenite::accept_async_with_config(sock, Some(cfg)).await
                else {
                    return;
                };
                let (mut tx, mut rx) = ws.split();
                while let Some(Ok(m)) = rx.next().await {
                    if (m.is_text() || m.is_binary()) && tx.send(m).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
}

/// A blocking WebSocket client connection for the load generator.
#[derive(Debug)]
pub struct WsClient {
    sock: TcpStream,
    buf: Vec<u8>,
}

impl WsClient {
    pub fn connect(addr: SocketAddr) -> io::Result<WsClient> {
        let mut sock = TcpStream::connect(addr)?;
        sock.set_nodelay(true)?;
        let req = format!(
            "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        sock.write_all(req.as_bytes())?;
        let mut head = Vec::new();
        let mut b = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            sock.read_exact(&mut b)?;
            head.push(b[0]);
            if head.len() > 8192 {
                return Err(io::Error::other("handshake too long"));
            }
        }
        if !head.starts_with(b"HTTP/1.1 101") {
            return Err(io::Error::other(
                String::from_utf8_lossy(&head).into_owned(),
            ));
        }
        Ok(WsClient {
            sock,
            buf: Vec::new(),
        })
    }

    /// Send one masked binary frame.
    pub fn send(&mut self, payload: &[u8]) -> io::Result<()> {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        let mut f = Vec::with_capacity(payload.len() + 14);
        f.push(0x82);
        match payload.len() {
            n if n < 126 => f.push(0x80 | n as u8),
            n if n <= 0xffff => {
                f.push(0x80 | 126);
                f.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                f.push(0x80 | 127);
                f.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        f.extend_from_slice(&mask);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.sock.write_all(&f)
    }

    /// Read one unmasked frame; returns its payload length.
    pub fn recv(&mut self) -> io::Result<usize> {
        let mut h = [0u8; 2];
        self.sock.read_exact(&mut h)?;
        let len = match h[1] & 0x7f {
            126 => {
                let mut l = [0u8; 2];
                self.sock.read_exact(&mut l)?;
                u16::from_be_bytes(l) as usize
            }
            127 => {
                let mut l = [0u8; 8];
                self.sock.read_exact(&mut l)?;
                u64::from_be_bytes(l) as usize
            }
            n => n as usize,
        };
        self.buf.resize(len, 0);
        self.sock.read_exact(&mut self.buf)?;
        Ok(len)
    }
}

/// Figures of one load run.
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
}

/// `conns` connections, each on its own thread, closed loop of `messages`
/// echoes of `size` bytes.
pub fn load(addr: SocketAddr, conns: usize, messages: usize, size: usize) -> io::Result<Figures> {
    let payload: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let start = Instant::now();
    let workers: Vec<_> = (0..conns)
        .map(|_| {
            let p = payload.clone();
            std::thread::spawn(move || -> io::Result<Histogram<u64>> {
                let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)
                    .map_err(io::Error::other)?;
                let mut c = WsClient::connect(addr)?;
                for _ in 0..messages {
                    let t = Instant::now();
                    c.send(&p)?;
                    if c.recv()? != p.len() {
                        return Err(io::Error::other("echo length mismatch"));
                    }
                    let _ = h.record(t.elapsed().as_micros().max(1) as u64);
                }
                Ok(h)
            })
        })
        .collect();
    let mut latency =
        Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).map_err(io::Error::other)?;
    for w in workers {
        let h = w
            .join()
            .map_err(|_| io::Error::other("load thread panicked"))??;
        latency.add(h).map_err(io::Error::other)?;
    }
    Ok(Figures {
        messages: (conns * messages) as u64,
        elapsed: start.elapsed(),
        latency,
    })
}

/// A free loopback port (for child-process servers).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}
