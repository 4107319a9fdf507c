//! Per-vhost `Host` matching: vhosts sharing a listener each answer the
//! requests whose `Host` they own; others go to the first vhost.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use lws_core::{Context, Endpoint, RunLoop, VhostBuilder};
use lws_loop_poll::PollLoop;
use lws_role_http::{HttpCx, HttpEvent, HttpHandler, HttpProtocol};

struct Named(&'static str);

impl HttpHandler for Named {
    type Exchange = ();
    fn on_event(&mut self, cx: &mut HttpCx<'_, '_>, _: &mut (), ev: HttpEvent<'_>) {
        if let HttpEvent::BodyEnd = ev {
            let _ = cx.respond(200, &[("Content-Type", "text/plain")], self.0.as_bytes());
        }
    }
}

#[test]
fn host_header_selects_the_vhost_per_request() {
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("probe")
        .local_addr()
        .expect("addr")
        .port();
    let (tx, rx) = mpsc::channel();
    let server = thread::spawn(move || {
        let ep = Endpoint::Tcp(SocketAddr::from(([127, 0, 0, 1], port)));
        let mut ctx = Context::builder()
            .vhost(
                VhostBuilder::new("a.test")
                    .listen(ep.clone())
                    .protocol("http", HttpProtocol::new(Named("vhost-a"))),
            )
            .vhost(
                VhostBuilder::new("b.test")
                    .alias("www.b.test")
                    .listen(ep)
                    .protocol("http", HttpProtocol::new(Named("vhost-b"))),
            )
            .build()
            .expect("context");
        tx.send(ctx.remote()).expect("remote");
        PollLoop::new().expect("loop").run(&mut ctx).expect("run");
    });
    let remote = rx.recv_timeout(Duration::from_secs(10)).expect("up");
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let req = |host: &str, close: bool| {
        format!(
            "GET / HTTP/1.1\r\nHost: {host}\r\n{}\r\n",
            if close { "Connection: close\r\n" } else { "" }
        )
    };
    // One keep-alive connection, four requests, pipelined.
    let all = [
        req("a.test", false),
        req("B.TEST:8080", false),
        req("unknown.test", false),
        req("www.b.test", true),
    ]
    .concat();
    s.write_all(all.as_bytes()).expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    remote.stop();
    server.join().expect("server");
    let bodies: Vec<&str> = out
        .split("\r\n\r\n")
        .skip(1)
        .map(|b| b.split("HTTP/1.1").next().unwrap_or(""))
        .collect();
    assert_eq!(
        bodies,
        vec!["vhost-a", "vhost-b", "vhost-a", "vhost-b"],
        "{out}"
    );
}
