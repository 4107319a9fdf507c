//! The in-process server under test: a raw echo context (or an HTTP or a
//! WebSocket one) on a named loop, running on its own thread.

use std::net::SocketAddr;
use std::thread::JoinHandle;

use lws::raw::{RawEvent, RawHandler, RawProtocol};
use lws::{ConnCx, Context, Endpoint, Remote, VhostBuilder};

/// Echo written the libwebsockets way: queue, request writable, write.
#[derive(Debug)]
pub struct Echo;

impl RawHandler for Echo {
    type Session = Vec<u8>;

    fn on_event(&mut self, cx: &mut ConnCx<'_>, queued: &mut Vec<u8>, ev: RawEvent<'_>) {
        match ev {
            RawEvent::Rx(data) => {
                queued.extend_from_slice(data);
                cx.request_writable();
            }
            RawEvent::Writable => {
                let _ = cx.write(queued);
                queued.clear();
            }
            _ => {}
        }
    }
}

#[derive(Debug)]
pub struct Running {
    pub addr: SocketAddr,
    pub remote: Remote,
    pub thread: JoinHandle<lws::core::Stats>,
}

/// Start an echo server on `loop_name` on its own thread.
pub fn start(loop_name: &str, idle_timeout: Option<std::time::Duration>) -> Running {
    start_with(loop_name, idle_timeout, || RawProtocol::new(Echo))
}

/// Start an HTTP/1.1 + HTTP/2 server (404 for everything) whose idle
/// connections are kept for `keep`.
pub fn start_http(loop_name: &str, keep: std::time::Duration) -> Running {
    start_with(loop_name, Some(keep), move || {
        lws::http::HttpProtocol::new(lws::http::NotFound).config(lws::http::ServerConfig {
            keepalive_timeout: keep,
            ..Default::default()
        })
    })
}

/// Start a WebSocket echo server (HTTP/1.1 upgrades to the `echo`
/// protocol) with `config`; connections are never idled out.
pub fn start_ws(loop_name: &str, config: lws::ws::WsConfig) -> Running {
    start_vhost(loop_name, None, move |vh| {
        vh.protocol(
            "http",
            lws::http::HttpProtocol::new(lws::http::NotFound).websocket("echo"),
        )
        .protocol(
            "echo",
            lws::ws::WsProtocol::new(crate::ws::Echo).config(config),
        )
    })
}

/// Start a server with the protocol `make` builds (on the server thread).
pub fn start_with<P: lws::Protocol>(
    loop_name: &str,
    idle_timeout: Option<std::time::Duration>,
    make: impl FnOnce() -> P + Send + 'static,
) -> Running {
    start_vhost(loop_name, idle_timeout, move |vh| {
        vh.protocol("echo", make())
    })
}

/// Start a server whose vhost `configure` fills with protocols (on the
/// server thread).
pub fn start_vhost(
    loop_name: &str,
    idle_timeout: Option<std::time::Duration>,
    configure: impl FnOnce(VhostBuilder) -> VhostBuilder + Send + 'static,
) -> Running {
    let loop_name = loop_name.to_owned();
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let vh = configure(
            VhostBuilder::new("default")
                .listen(Endpoint::Tcp(SocketAddr::from(([127, 0, 0, 1], 0))))
                .idle_timeout(idle_timeout)
                .backlog(4096),
        );
        let mut ctx = Context::builder()
            .vhost(vh)
            .build()
            .expect("server context");
        let addr = match ctx.bound_endpoints("default").expect("vhost").first() {
            Some(Endpoint::Tcp(a)) => *a,
            _ => panic!("no tcp listener"),
        };
        tx.send((addr, ctx.remote())).expect("report address");
        lws::loops::run(&loop_name, &mut ctx).expect("server loop");
        ctx.stats()
    });
    let (addr, remote) = rx.recv().expect("server started");
    Running {
        addr,
        remote,
        thread,
    }
}
