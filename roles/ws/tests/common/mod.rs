//! Shared by the WebSocket integration tests: an lws-rs server context on
//! its own thread (plain or TLS), and a client context runner.
#![allow(dead_code)]

pub mod probe;

use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use lws_core::{
    Context, ContextBuilder, Endpoint, Remote, RunLoop, TlsClientSpec, TlsServerSpec, VhostBuilder,
};
use lws_loop_poll::PollLoop;
use lws_role_http::{HttpProtocol, NotFound};
use lws_role_ws::{Message, WsConfig, WsCx, WsEvent, WsHandler, WsProtocol};
use lws_tls_rustls::RustlsBackend;
use lws_tls_rustls::testcert::TestCa;

/// Echo handler.
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

pub struct Server {
    pub addr: SocketAddr,
    pub remote: Remote,
    pub ca_pem: Option<String>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.remote.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A CA-signed certificate for "localhost": (CA PEM, server spec).
pub fn localhost_cert() -> (String, TlsServerSpec) {
    let ca = TestCa::new("ws test CA").expect("ca");
    let leaf = ca.leaf(&["localhost"]).expect("leaf");
    (
        ca.cert_pem.clone(),
        TlsServerSpec::from_pem(leaf.cert_pem, leaf.key_pem),
    )
}

/// Serve `protocols()` on a vhost whose HTTP protocol upgrades to
/// `default_ws`; TLS with `tls` when given.
pub fn serve<F>(tls: Option<TlsServerSpec>, default_ws: &'static str, protocols: F) -> Server
where
    F: FnOnce(VhostBuilder) -> VhostBuilder + Send + 'static,
{
    let spec = tls;
    let ca_pem = None;
    let (tx, rx) = mpsc::channel();
    let thread = thread::spawn(move || {
        let http = HttpProtocol::new(NotFound).websocket(default_ws);
        let mut vh = VhostBuilder::new("localhost")
            .listen(Endpoint::Tcp(SocketAddr::from(([127, 0, 0, 1], 0))))
            .protocol("http", http);
        vh = protocols(vh);
        let mut b = Context::builder();
        if let Some(spec) = spec {
            vh = vh.tls(spec);
            b = b.tls_backend(RustlsBackend::shared());
        }
        let mut ctx = b.vhost(vh).build().expect("server context");
        let addr = match ctx.bound_endpoints("localhost").expect("vhost").first() {
            Some(Endpoint::Tcp(a)) => *a,
            _ => panic!("no listener"),
        };
        tx.send((addr, ctx.remote())).expect("report");
        PollLoop::new().expect("loop").run(&mut ctx).expect("run");
    });
    let (addr, remote) = rx.recv_timeout(Duration::from_secs(10)).expect("server up");
    Server {
        addr,
        remote,
        ca_pem,
        thread: Some(thread),
    }
}

/// An echo server (`Echo` on protocol "echo").
pub fn echo_server(tls: bool, config: WsConfig) -> Server {
    let (ca, spec) = localhost_cert();
    let spec = tls.then_some(spec);
    let mut s = serve(spec, "echo", move |vh| {
        vh.protocol("echo", WsProtocol::new(Echo).config(config))
    });
    s.ca_pem = tls.then_some(ca);
    s
}

/// Build a client context with `handler` on protocol "c" and run it until
/// it stops (30 s guard); returns the context for inspection.
pub fn run_client<H: WsHandler>(
    handler: H,
    config: WsConfig,
    tls: Option<TlsClientSpec>,
    start: impl FnOnce(&mut Context),
) -> Context {
    let mut b: ContextBuilder = Context::builder().tls_backend(RustlsBackend::shared());
    if let Some(spec) = tls {
        b = b.tls_client(spec);
    }
    let mut ctx = b
        .vhost(VhostBuilder::new("c").protocol("c", WsProtocol::new(handler).config(config)))
        .build()
        .expect("ctx");
    let remote = ctx.remote();
    let dog = thread::spawn(move || {
        thread::sleep(Duration::from_secs(30));
        remote.stop();
    });
    start(&mut ctx);
    PollLoop::new().expect("loop").run(&mut ctx).expect("run");
    drop(dog);
    ctx
}

pub fn handler<H: WsHandler>(ctx: &mut Context) -> &mut H {
    ctx.protocol_mut::<WsProtocol<H>>("c", "c")
        .expect("protocol")
        .handler_mut()
}

/// Write `text` to a temp file (CA certificates for peers); returns it.
pub fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("lws-ws-{}-{name}", std::process::id()));
    std::fs::write(&p, text).expect("temp file");
    p
}
